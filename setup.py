"""Build the optional C loops (memsleuth._scan, memsleuth._dwarf); metadata lives in
pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and memsleuth runs the
pure-Python scanner and DWARF decoder (``memsleuth --version`` says which scanner is
active).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("memsleuth._scan", ["src/memsleuth/_scan.c"], optional=True,
                             extra_compile_args=["-O2"]),
                   # the line-number program loop of the pure DWARF engine (symbols/lines.py)
                   Extension("memsleuth._dwarf", ["src/memsleuth/_dwarf.c"], optional=True,
                             extra_compile_args=["-O2"])])
