"""One module per CLI verb (memray-style); each exposes ``command`` (a click.Command).

``memsleuth.cli`` discovers them, so adding a verb never touches another verb's file.
"""
