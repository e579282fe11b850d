"""What the gate and publish know about the warehouse: published marts, columns, grains.

The published marts are the models the dbt project tags ``published`` (read from the dbt
manifest, ``<data_dir>/dbt/target/manifest.json``); without a manifest, every warehouse
table named ``fct_*`` or ``mart_*``. ``published_marts`` is the one place that decides.

Fixed columns and grains follow DESIGN.md ("Published marts"). A mart not listed here may
declare its grain in dbt as ``meta: {grain: [col, ...]}``; the gate then checks it too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings

# Column type families checked against DuckDB's ``information_schema.columns.data_type``.
STRING, NUMBER, DATE, TIMESTAMP = "string", "number", "date", "timestamp"

_SPEND_COLUMNS = {
    "spend_date": DATE,
    "platform": STRING,
    "channel": STRING,
    "account_id": STRING,
    "campaign_id": STRING,
    "campaign_name": STRING,
    "ad_group_id": STRING,
    "ad_group_name": STRING,
    "ad_id": STRING,
    "ad_name": STRING,
    "account_currency": STRING,
    "spend_account_currency": NUMBER,
    "spend": NUMBER,
    "impressions": NUMBER,
    "clicks": NUMBER,
    "link_clicks": NUMBER,
    "platform_conversions": NUMBER,
    "platform_conversion_value": NUMBER,
}
_ATTRIBUTED_COLUMNS = {
    "conversion_id": STRING,
    "conversion_type": STRING,
    "converted_at": TIMESTAMP,
    "conversion_date": DATE,
    "person_key": STRING,
    "conversion_value": NUMBER,
    "model": STRING,
    "touchpoint_id": STRING,
    "touched_at": TIMESTAMP,
    "channel": STRING,
    "platform": STRING,
    "campaign_id": STRING,
    "ad_group_id": STRING,
    "ad_id": STRING,
    "touch_position": NUMBER,
    "path_length": NUMBER,
    "credit": NUMBER,
    "attributed_value": NUMBER,
}
_PERFORMANCE_COLUMNS = {
    "report_date": DATE,
    "date_basis": STRING,
    "model": STRING,
    "channel": STRING,
    "platform": STRING,
    "campaign_id": STRING,
    "spend": NUMBER,
    "impressions": NUMBER,
    "clicks": NUMBER,
    "attributed_conversions": NUMBER,
    "attributed_value": NUMBER,
}
_KPI_COLUMNS = {
    **_PERFORMANCE_COLUMNS,
    **dict.fromkeys(("cpc", "cpm", "ctr", "cvr", "cpl", "cpa", "cps", "cpi", "roas"), NUMBER),
}

FIXED_COLUMNS: dict[str, dict[str, str]] = {
    "fct_ad_spend_daily": _SPEND_COLUMNS,
    "fct_attributed_conversions": _ATTRIBUTED_COLUMNS,
    "fct_channel_performance_daily": _PERFORMANCE_COLUMNS,
    "mart_kpi_daily": _KPI_COLUMNS,
    "mart_markov_channel_effects": {
        "channel": STRING,
        "removal_effect": NUMBER,
        "value_removal_effect": NUMBER,
        "share": NUMBER,
        "attributed_conversions": NUMBER,
        "attributed_value": NUMBER,
    },
    "mart_model_comparison": {"channel": STRING},
}

_PERFORMANCE_GRAIN = ("report_date", "date_basis", "model", "channel", "platform", "campaign_id")

# (grain columns, grain columns that must never be null). Organic channels have no
# platform or campaign; Taboola has no ad group; an empty path has no touchpoint.
GRAINS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fct_ad_spend_daily": (
        ("spend_date", "platform", "account_id", "campaign_id", "ad_group_id", "ad_id"),
        ("spend_date", "platform", "account_id", "campaign_id"),
    ),
    "fct_attributed_conversions": (
        ("conversion_id", "model", "touchpoint_id"),
        ("conversion_id", "model"),
    ),
    "fct_channel_performance_daily": (
        _PERFORMANCE_GRAIN,
        ("report_date", "date_basis", "model", "channel"),
    ),
    "mart_kpi_daily": (_PERFORMANCE_GRAIN, ("report_date", "date_basis", "model", "channel")),
    "mart_markov_channel_effects": (("channel",), ("channel",)),
    "mart_model_comparison": (("channel", "model"), ("channel",)),
}

# Key intermediate tables the gate checks when present (dbt names, CONTRACTS.md).
INTERMEDIATE_TABLES = ("int_ad_spend_daily", "int_conversions", "int_conversion_paths")

PUBLICATION_LOG_TABLE = "publication_log"


def manifest_path(settings: Settings) -> Path:
    return settings.paths.data_dir / "dbt" / "target" / "manifest.json"


def _manifest_published(settings: Settings) -> list[dict[str, Any]] | None:
    path = manifest_path(settings)
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    nodes = []
    for node in (manifest.get("nodes") or {}).values():
        if node.get("resource_type") != "model":
            continue
        tags = set(node.get("tags") or []) | set((node.get("config") or {}).get("tags") or [])
        if "published" in tags:
            nodes.append(node)
    return nodes


def published_marts(settings: Settings, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Names of the published marts, sorted.

    From the dbt manifest (models tagged ``published``; their alias if set), else every
    table of the warehouse named ``fct_*`` or ``mart_*``. ``con`` is an open connection
    to the warehouse (or one with it attached as ``wh``); without it the warehouse is
    opened read-only when the fallback is needed.
    """
    nodes = _manifest_published(settings)
    if nodes:
        return sorted({n.get("alias") or n["name"] for n in nodes} - {PUBLICATION_LOG_TABLE})
    if con is None:
        if not settings.paths.warehouse.exists():
            return []
        with duckdb.connect(str(settings.paths.warehouse), read_only=True) as own:
            return published_marts(settings, own)
    names = {
        name
        for (name,) in con.execute(
            "select distinct table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' "
            "and (table_name like 'fct\\_%' escape '\\' or table_name like 'mart\\_%' escape '\\')"
            + _catalog_filter(con)
        ).fetchall()
    }
    return sorted(names - {PUBLICATION_LOG_TABLE})


def _catalog_filter(con: duckdb.DuckDBPyConnection) -> str:
    attached = {
        r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()
    }
    return " and table_catalog = 'wh'" if "wh" in attached else ""


def mart_grain(settings: Settings, name: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(grain columns, never-null columns) of a mart: DESIGN's, else dbt ``meta.grain``."""
    if name in GRAINS:
        return GRAINS[name]
    for node in _manifest_published(settings) or []:
        if (node.get("alias") or node["name"]) != name:
            continue
        meta = node.get("meta") or (node.get("config") or {}).get("meta") or {}
        grain = meta.get("grain")
        if grain:
            cols = tuple(grain) if isinstance(grain, list) else (str(grain),)
            return cols, cols
    return None


def resolve_table(
    con: duckdb.DuckDBPyConnection, name: str, catalog: str | None = None
) -> str | None:
    """The quoted ``[catalog.]schema.table`` of a table or view by name, or None.

    dbt-duckdb may put models in custom schemas; ``main`` is preferred when several hold
    the name.
    """
    sql = (
        "select table_catalog, table_schema from information_schema.tables "
        "where table_name = ?"
        + (" and table_catalog = ?" if catalog else "")
        + " order by (table_schema = 'main') desc, table_schema"
    )
    params = [name, catalog] if catalog else [name]
    row = con.execute(sql, params).fetchall()
    if not row:
        return None
    cat, schema = row[0]
    return f'"{cat}"."{schema}"."{name}"'


def warehouse_fingerprint(settings: Settings) -> dict[str, int] | None:
    """Size and modification time (ns) of the warehouse file (and its WAL), or None."""
    path = settings.paths.warehouse
    if not path.exists():
        return None
    st = path.stat()
    wal = path.with_name(path.name + ".wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "wal_size": wal_size}


def read_build(settings: Settings) -> dict[str, Any] | None:
    """``state/build.json`` written by ``pipelines.warehouse.build``, or None."""
    path = settings.paths.state / "build.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
