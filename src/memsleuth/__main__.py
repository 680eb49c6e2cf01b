"""`python -m memsleuth` = the `memsleuth` console script."""

from memsleuth.cli import main

main()
