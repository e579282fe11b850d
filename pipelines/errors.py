"""Errors that the CLI turns into exit codes (see DESIGN: exit codes)."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_GATE_BLOCKED = 3


class PipelineError(Exception):
    """A step failed; the message is one sentence saying what and what to do."""

    exit_code = EXIT_FAILED


class BadInputError(PipelineError):
    """An input file cannot be parsed or breaks its source's contract.

    ``where`` locates the problem (``line 12``, ``column 'Cost'``, ``row 3, column
    'spend'``); the message says what is wrong. The file is quarantined with this text.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, file: str | Path, problem: str, where: str | None = None):
        self.file = str(file)
        self.problem = problem
        self.where = where
        loc = f" at {where}" if where else ""
        super().__init__(f"{self.file}{loc}: {problem}")


class GateBlockedError(PipelineError):
    """The quality gate failed; publication was refused and the last one kept."""

    exit_code = EXIT_GATE_BLOCKED
