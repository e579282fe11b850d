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
    allow_unsalted_pii: bool = False  # privacy.allow_unsalted_dev
    pii_salt_env: str = "ATTRIBUTION_PII_SALT"  # privacy.salt_env, named in error messages
    # DuckDB limits (threads, memory_limit) for parsers that stream through DuckDB.
    duckdb: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, source: str, folder_date: dt.date) -> ParseContext:
        return cls(
            folder_date=folder_date,
            options=settings.source_options(source),
            reporting_currency=settings.reporting.currency,
            reporting_timezone=settings.reporting.timezone,
            pii_salt=settings.pii_salt,
            allow_unsalted_pii=settings.privacy.allow_unsalted_dev,
            pii_salt_env=settings.privacy.salt_env,
            duckdb={k: v for k, v in settings.duckdb_config().items() if k != "temp_directory"},
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

    def parse_to_parquet(self, path: Path, ctx: ParseContext, out: Path) -> int:
        """Write the canonical rows of one delivered file to the Parquet file ``out``.

        Ingestion calls this (not ``parse``); it returns the number of rows written. The
        default conforms ``parse``'s DataFrame. A source whose files can be large overrides
        it to stream (e.g. DuckDB ``COPY ... TO``) without holding the file in memory; the
        columns written must be the table's columns (extra columns are ignored by ingest,
        types are cast to the table's schema when the partition is built).
        """
        import pyarrow.parquet as pq

        from pipelines.canonical import conform

        frame = self.parse(path, ctx)
        try:
            arrow = conform(frame, self.table)
        except ValueError as exc:
            from pipelines.errors import BadInputError

            raise BadInputError(path, f"{exc}; fix the values of that column", None) from exc
        pq.write_table(arrow, out)
        return arrow.num_rows

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Write canonical rows of one day as files in the platform's real format."""
        raise NotImplementedError

    @property
    def folder(self) -> Path:
        import inspect

        return Path(inspect.getfile(type(self))).parent

    def __repr__(self) -> str:
        return f"<Source {self.name} -> {self.table.name}>"
