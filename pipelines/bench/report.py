"""``format_bench_table``: the benchmark results as a plain-text table, one column per size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _num(value: Any, fmt: str = "{:,.1f}") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt.format(value)


def _stage(name: str) -> Callable[[dict], str]:
    return lambda r: _num((r.get("stage_seconds") or {}).get(name))


def _peer(r: dict) -> str:
    peer = r.get("peer")
    if not peer:
        return "n/a"
    ratio = _num(peer.get("time_ratio"), "{:,.1f}")
    diff = peer.get("max_abs_removal_effect_diff")
    return f"{ratio}x, max dRE {_num(diff, '{:.4f}')}"


ROWS: tuple[tuple[str, Callable[[dict], str]], ...] = (
    ("events (landed lines)", lambda r: _num(r.get("events"), "{:,}")),
    ("days", lambda r: _num(r.get("days"), "{:,}")),
    ("ingest s", _stage("ingest")),
    ("build s", _stage("build")),
    ("gate s", _stage("gate")),
    ("publish s", _stage("publish")),
    ("total s", lambda r: _num(r.get("total_seconds"))),
    ("events / s", lambda r: _num(r.get("events_per_second"), "{:,.0f}")),
    ("floor s (DuckDB read + group)", lambda r: _num(r.get("floor_seconds"), "{:,.2f}")),
    ("total / floor", lambda r: _num(r.get("ratio_to_floor"), "{:,.1f}x")),
    ("build / floor", lambda r: _num(r.get("build_ratio_to_floor"), "{:,.1f}x")),
    ("pandas last+linear s", lambda r: _num(r.get("pandas_seconds"))),
    ("pandas equals pipeline", lambda r: _num(r.get("pandas_matches_pipeline"))),
    ("journeys", lambda r: _num(r.get("journeys"), "{:,}")),
    ("distinct paths", lambda r: _num(r.get("distinct_paths"), "{:,}")),
    ("markov s (exact)", lambda r: _num(r.get("markov_seconds"), "{:,.2f}")),
    ("markov s, 1M journeys", lambda r: _num(r.get("markov_1m_journeys_seconds"), "{:,.2f}")),
    ("shapley s", lambda r: _num(r.get("shapley_seconds"), "{:,.2f}")),
    (
        "shapley s, 100k distinct paths",
        lambda r: _num(r.get("shapley_many_paths_seconds"), "{:,.2f}"),
    ),
    ("peer (time ratio, max dRE)", _peer),
    ("incremental s (+1 day)", lambda r: _num(r.get("incremental_seconds"))),
    ("incremental / full ingest+build", lambda r: _num(_pct(r.get("incremental_ratio")), "{}")),
    ("incremental run s (+ gate, publish)", lambda r: _num(r.get("incremental_run_seconds"))),
    ("incremental run / full run", lambda r: _num(_pct(r.get("incremental_run_ratio")), "{}")),
    ("compaction due per night s", lambda r: _num(r.get("compaction_seconds_per_night"))),
    (
        "incremental + compaction / full",
        lambda r: _num(_pct(r.get("incremental_with_compaction_ratio")), "{}"),
    ),
    ("incremental = full refresh", lambda r: _num(r.get("incremental_matches_full_refresh"))),
    ("gate passed", lambda r: _num(r.get("gate_passed"))),
    ("peak RSS MB (pipeline)", lambda r: _num(r.get("peak_rss_mb"), "{:,.0f}")),
)


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.0f}%"


def format_bench_table(results: list[dict[str, Any]]) -> str:
    """A table with one row per measure and one column per size."""
    if not results:
        return "no benchmark results"
    header = [
        "measure",
        *[f"{r.get('events_target', r.get('events', 0)):,} events" for r in results],
    ]
    body = [[label, *[fn(r) for r in results]] for label, fn in ROWS]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    m = results[0].get("machine") or {}
    if m:
        v = m.get("versions") or {}
        duck = m.get("duckdb_settings") or {}
        lines.append("")
        lines.append(
            f"machine: {m.get('cores')} cores, {m.get('memory_gb')} GB, "
            f"load {m.get('load_average_at_start')}; python {v.get('python')}, "
            f"duckdb {v.get('duckdb')}, dbt-duckdb {v.get('dbt-duckdb')}, "
            f"pandas {v.get('pandas')}; "
            f"DuckDB {duck.get('threads')} threads, {duck.get('memory_limit')}"
        )
    return "\n".join(lines)
