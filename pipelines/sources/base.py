"""What a source is: the contract every folder under ``pipelines/sources/`` fulfils.

A source owns everything about one platform's format: ``parse`` (a delivered file ->
canonical rows), ``write`` (canonical rows -> a file in the platform's real format, used by
the synthetic generator and the round-trip tests), its sample files under
``samples/`` with the expected canonical output, and a README of quirks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from pipelines.canonical import Table

if TYPE_CHECKING:
    from pipelines.config import Settings


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the file: its landing day and the settings."""

    folder_date: dt.date  # the landing folder's day
    options: dict[str, Any] = field(default_factory=dict)  # settings.sources[<name>]
    reporting_currency: str = "USD"
    reporting_timezone: str = "UTC"
    pii_salt: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, source: str, folder_date: dt.date) -> ParseContext:
        return cls(
            folder_date=folder_date,
            options=settings.source_options(source),
            reporting_currency=settings.reporting.currency,
            reporting_timezone=settings.reporting.timezone,
            pii_salt=settings.pii_salt,
        )


class Source:
    """Base class; a source module defines a subclass and exposes an instance as ``SOURCE``."""

    name: ClassVar[str]  # folder name, platform column, Airflow asset, suite name
    table: ClassVar[Table]  # the canonical lake table it feeds
    description: ClassVar[str] = ""
    # File name patterns this source accepts in its landing folder (fnmatch, lower-cased).
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.csv")

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        """Read one delivered file; return canonical rows (columns of ``self.table``).

        Raise ``BadInputError(path, problem, where)`` for anything that breaks the
        contract: unparseable content, missing required columns, non-numeric metrics,
        dates outside ``ctx.folder_date``, unknown currency codes.
        """
        raise NotImplementedError

    def write(self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None) -> list[Path]:
        """Write canonical rows of one day as files in the platform's real format."""
        raise NotImplementedError

    @property
    def folder(self) -> Path:
        import inspect

        return Path(inspect.getfile(type(self))).parent

    def __repr__(self) -> str:
        return f"<Source {self.name} -> {self.table.name}>"
