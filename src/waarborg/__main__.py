"""``python -m waarborg``: the command line, as the ``waarborg`` console script runs it."""

from waarborg.cli import main

main()
