"""``python -m pipelines`` is the ``attribution`` command."""

from pipelines.cli import main

main()
