"""The floor: the least work any attribution pipeline must do with the raw events.

Read every landed first-party event file once (JSON lines, gzipped or not) and group the
events by person (the anonymous id), keeping each person's event count and first and last
timestamp. Whatever else a pipeline does (typing, deduplication, identity stitching,
sessions, channels, paths, credit, publication), it cannot do less than this, so the
pipeline's time as a multiple of the floor says how much it spends on everything else.

It runs in DuckDB with the same threads, memory limit and spill directory as the pipeline
(``settings.duckdb_config()``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pipelines.config import Settings

EVENTS_SOURCE = "events"


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    events: int  # event lines read
    people: int  # distinct anonymous ids (null counted as one group)
    files: int


def event_files(settings: Settings) -> list[str]:
    """The landed event files (``landing/events/<day>/*``), excluding unfinished uploads."""
    root = settings.paths.landing / EVENTS_SOURCE
    return sorted(
        str(p)
        for p in root.glob("*/*")
        if p.is_file()
        and not p.name.startswith(".")
        and p.name.endswith((".jsonl", ".json", ".ndjson", ".gz"))
    )


def floor(settings: Settings) -> FloorResult:
    """Read the landed event files once and group them by anonymous id; timed."""
    files = event_files(settings)
    if not files:
        raise FileNotFoundError(
            f"{settings.paths.landing / EVENTS_SOURCE} holds no event files; land events first."
        )
    listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    settings.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
    sql = f"""
        with people as (
            select
                anonymousId as person,
                count(*) as events,
                min("timestamp") as first_at,
                max("timestamp") as last_at
            from read_json(
                {listing},
                format = 'newline_delimited',
                compression = 'auto',
                columns = {{'anonymousId': 'VARCHAR', 'timestamp': 'VARCHAR'}}
            )
            group by anonymousId
        )
        select coalesce(sum(events), 0), count(*) from people
    """
    started = time.perf_counter()
    with duckdb.connect(config=settings.duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        events, people = con.execute(sql).fetchall()[0]
    return FloorResult(
        seconds=time.perf_counter() - started,
        events=int(events),
        people=int(people),
        files=len(files),
    )
