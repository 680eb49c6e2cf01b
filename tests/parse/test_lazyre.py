"""The readers' patterns are compiled on first use (start-up) and then behave exactly as
``re.compile``'s: same matches, attributes, pickling."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

from memsleuth.parse.lazyre import LazyPattern, lazy


def test_a_lazy_pattern_is_the_compiled_pattern_once_used():
    source, flags = r"(?P<addr>0x[0-9a-f]+)\s+(used|free)", re.IGNORECASE
    ref, pat = re.compile(source, flags), lazy(source, flags)
    assert type(pat) is LazyPattern and pat.pattern == source   # nothing compiled yet
    texts = ["0X1F used", "blk 0x20 FREE and 0x30 used", "none", ""]
    for text in texts:
        assert pat.search(text) and ref.search(text) or not (pat.search(text) or
                                                             ref.search(text))
        m, r = pat.match(text), ref.match(text)
        assert (m and m.groupdict()) == (r and r.groupdict())
        assert pat.findall(text) == ref.findall(text)
        assert pat.sub("<\\2>", text) == ref.sub("<\\2>", text)
        assert pat.split(text) == ref.split(text)
    assert type(pat) is not LazyPattern                         # compiled, hook gone
    assert (pat.flags, pat.groups, pat.groupindex) == (ref.flags, ref.groups, ref.groupindex)
    again = pickle.loads(pickle.dumps(pat))
    assert again.pattern == source and again.match("0xab free")["addr"] == "0xab"


def test_importing_the_readers_compiles_none_of_their_patterns():
    code = (
        "import re, memsleuth.parse as p\n"
        "from memsleuth.parse import alios_heap, espidf, nuttx, zephyr\n"
        "from memsleuth.parse.lazyre import LazyPattern\n"
        "mods = (alios_heap, espidf, nuttx, zephyr)\n"
        "vals = [v for m in mods for v in vars(m).values()]\n"
        "print(sum(isinstance(v, LazyPattern) for v in vals),"
        " sum(isinstance(v, re.Pattern) for v in vals))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    waiting, compiled = map(int, out)
    assert waiting > 100 and compiled == 0
