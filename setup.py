"""Build the optional C scanner (memsleuth._scan); metadata lives in pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and memsleuth runs the
pure-Python scanner (``memsleuth --version`` says which one is active).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("memsleuth._scan", ["src/memsleuth/_scan.c"], optional=True,
                             extra_compile_args=["-O2"])])
