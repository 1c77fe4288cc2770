"""The ``castmill`` command line: one module per command group, ``root`` gathers them."""


def main() -> None:
    """The ``castmill`` console script."""
    from pipeline.cli.root import main as run

    run()
