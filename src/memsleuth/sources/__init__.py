"""Sources: where log bytes come from (files now; serial and process capture later).

Every source yields raw ``bytes`` lines (line ending included); decoding, prefix stripping
and parsing happen downstream in :mod:`memsleuth.parse`.
"""

from memsleuth.sources.file import FileSource
from memsleuth.sources.text import decode_line, split_lines, strip_eol

__all__ = ["FileSource", "decode_line", "split_lines", "strip_eol"]
