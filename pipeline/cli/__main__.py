"""``python -m pipeline.cli …``: the same as the ``castmill`` command."""

from pipeline.cli import main

main()
