"""memsleuth: memory-leak and crash forensics for embedded firmware logs.

Flow: sources (bytes -> lines) -> parse (lines -> records) -> symbols (ELF) ->
analysis (records + symbolizer -> plain data) -> report (data -> text/JSON/HTML).
"""

__version__ = "0.1.0"
