"""What is landed, ingested, built and published, and the last gate result.

``status`` reads only: the landing folders, the ingest ledger (SQLite, read defensively:
its schema is discovered with ``PRAGMA table_info``), ``state/build.json``,
``published/marts.duckdb`` (read-only) and ``state/gate.json``. ``format_status`` renders
it as a plain text block.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import duckdb

from pipelines.config import Settings
from pipelines.quality.result import read_gate
from pipelines.quality.warehouse_tables import read_build


def _landed(settings: Settings) -> dict[str, dict[str, int]]:
    """{source: {date: number of files}} under ``landing/<source>/<date>/``."""
    out: dict[str, dict[str, int]] = {}
    root = settings.paths.landing
    if not root.is_dir():
        return out
    for source in sorted(p for p in root.iterdir() if p.is_dir()):
        days = {}
        for day in sorted(p for p in source.iterdir() if p.is_dir()):
            n = sum(1 for f in day.rglob("*") if f.is_file() and not f.name.startswith("."))
            if n:
                days[day.name] = n
        if days:
            out[source.name] = days
    return out


def _ingested(settings: Settings) -> dict[str, Any]:
    """Rows per source in the ledger (0 if there is no ledger)."""
    path = settings.paths.ledger
    result: dict[str, Any] = {"ledger": str(path), "files": 0, "by_source": {}}
    if not path.exists():
        return result
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        result["error"] = str(exc)
        return result
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"
            )
        ]
        for table in tables:
            cols = {r[1] for r in con.execute(f'pragma table_info("{table}")')}
            if "source" not in cols:
                continue
            status_col = next((c for c in ("status", "outcome", "state") if c in cols), None)
            rows = con.execute(
                f"select source, {f'{status_col}' if status_col else 'null'}, count(*) "
                f'from "{table}" group by 1, 2'
            ).fetchall()
            for source, status, n in rows:
                entry = result["by_source"].setdefault(str(source), {"files": 0})
                entry["files"] += n
                if status is not None:
                    entry[str(status)] = entry.get(str(status), 0) + n
                result["files"] += n
            result["table"] = table
            break
    except sqlite3.Error as exc:
        result["error"] = str(exc)
    finally:
        con.close()
    return result


def _published(settings: Settings) -> dict[str, Any]:
    from pipelines.publish import current_version, list_versions

    db = settings.paths.published_db
    out: dict[str, Any] = {"path": str(db), "version": None, "tables": {}, "versions": []}
    if not db.exists():
        return out
    out["version"] = current_version(settings)
    out["versions"] = [v["version"] for v in list_versions(settings)]
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            names = [r[0] for r in con.execute("show tables").fetchall()]
            for name in names:
                (n,) = con.execute(f'select count(*) from "{name}"').fetchall()[0]
                out["tables"][name] = n
    except duckdb.Error as exc:
        out["error"] = str(exc)
    return out


def status(settings: Settings) -> dict[str, Any]:
    """``{landed, ingested, built, published, gate}`` for the data dir."""
    gate = read_gate(settings)
    return {
        "data_dir": str(settings.paths.data_dir),
        "landed": _landed(settings),
        "ingested": _ingested(settings),
        "built": read_build(settings),
        "published": _published(settings),
        "gate": None
        if gate is None
        else {
            "run_id": gate.run_id,
            "passed": gate.passed,
            "checked_at": gate.checked_at,
            "build_id": gate.build_id,
            "data_dates": gate.data_dates,
            "failures": [f"{f.expectation} on {f.table}: {f.detail}" for f in gate.failures],
            "warnings": [f"{f.expectation} on {f.table}: {f.detail}" for f in gate.warnings],
        },
    }


def format_status(d: dict[str, Any]) -> str:
    """A readable text block of ``status()``."""
    lines = [f"Data dir: {d['data_dir']}"]
    landed = d["landed"]
    lines.append("Landed:" + ("" if landed else " nothing"))
    for source, days in landed.items():
        dates = sorted(days)
        lines.append(
            f"  {source}: {sum(days.values())} files over {len(days)} days "
            f"({dates[0]} .. {dates[-1]})"
        )
    ing = d["ingested"]
    lines.append(
        f"Ingested: {ing['files']} files"
        + (f" (ledger error: {ing['error']})" if "error" in ing else "")
    )
    for source, counts in sorted(ing["by_source"].items()):
        extra = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "files")
        lines.append(f"  {source}: {counts['files']}" + (f" ({extra})" if extra else ""))
    built = d["built"]
    if built:
        ok = "succeeded" if built.get("success") else "FAILED"
        lines.append(f"Built: {built.get('build_id')} {ok} at {built.get('finished_at')}")
    else:
        lines.append("Built: never")
    pub = d["published"]
    if pub["version"] or pub["tables"]:
        lines.append(f"Published: version {pub['version']} ({len(pub['versions'])} kept)")
        for name, n in pub["tables"].items():
            lines.append(f"  {name}: {n} rows")
    else:
        lines.append("Published: nothing yet")
    gate = d["gate"]
    if gate is None:
        lines.append("Last gate: never run")
    else:
        verdict = "passed" if gate["passed"] else "BLOCKED"
        lines.append(
            f"Last gate: {verdict} (run {gate['run_id']}, build {gate['build_id']}, "
            f"{gate['checked_at']}), {len(gate['failures'])} errors, "
            f"{len(gate['warnings'])} warnings"
        )
        lines += [f"  error: {f}" for f in gate["failures"]]
        lines += [f"  warning: {w}" for w in gate["warnings"]]
    return "\n".join(lines)
