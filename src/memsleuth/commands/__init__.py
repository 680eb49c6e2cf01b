"""One module per CLI verb (memray-style); each exposes ``command``, written with click's
decorators through ``memsleuth.lazyclick`` (``from memsleuth import lazyclick as click``), so
a plain command line can run the verb without importing click.

``memsleuth.cli`` discovers them, so adding a verb never touches another verb's file.
"""
