"""`python -m memsleuth` = the `memsleuth` console script."""

from memsleuth.entry import main

main()
