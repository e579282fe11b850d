"""DuckDB queries that turn the lake and the warehouse into the frames the gate validates.

Every function takes a DuckDB connection opened READ-ONLY on the warehouse (the lake is
read with ``read_parquet``) and returns a pandas DataFrame; nothing here writes (but for
a temporary table of the connection's own: ``attribution_credit_sums``). The
suites (``suites.py``) attach expectations to these frames. Big frames can be read in
parts (``part`` of ``parts``): rows are split by a hash of their key, so every copy of a
key lands in the same part and a grain check on one part sees all of them.
Reconciliations are computed here in SQL and asserted there, so each frame has one row
per thing checked (a platform and day, a model, a conversion) and the offending rows
become the failure's samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.canonical import TABLES, Table
from pipelines.config import Settings
from pipelines.lake import PARTITION_GLOB, table_glob
from pipelines.quality.warehouse_tables import resolve_table

# A spend day may use the latest rate published up to this many days before it (ECB
# publishes no rates on weekends and TARGET holidays); older than that counts as missing.
FX_MAX_STALENESS_DAYS = 7
# Volume checks need this many earlier days in the trailing window before they judge.
VOLUME_MIN_HISTORY_DAYS = 3
# Key columns allowed to be null (Taboola has no ad group; some exports have no ad level).
NULLABLE_KEY_COLUMNS = {"ad_delivery": {"ad_group_id", "ad_id"}}
# Columns loaded per lake table besides its key, ``source`` and ``date``.
LAKE_VALUE_COLUMNS = {
    "ad_delivery": ("account_currency", "spend_micros", "impressions", "clicks", "link_clicks"),
    "events": ("event_name", "order_id", "currency", "revenue"),
    "affiliate_transactions": ("currency", "sale_amount", "commission_amount"),
    "app_installs": ("cost_currency", "cost_value"),
    "fx_rates": ("rate",),
}
# Currency columns per lake table (checked as 3-letter codes).
CURRENCY_COLUMNS = {
    "ad_delivery": ("account_currency",),
    "events": ("currency",),
    "affiliate_transactions": ("currency",),
    "app_installs": ("cost_currency",),
    "fx_rates": ("base_currency", "currency"),
}


def lake_glob(settings: Settings, table: str) -> str:
    """Glob of every partition file of a canonical table (hive layout, DESIGN)."""
    return table_glob(settings, table)


def _read(settings: Settings, table: str, files: Sequence[Path] | None = None) -> str:
    """A ``read_parquet`` of a lake table: every partition, or only ``files``."""
    if files is None:
        what = "'" + lake_glob(settings, table).replace("'", "''") + "'"
    else:
        what = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    return f"read_parquet({what}, hive_partitioning = true, union_by_name = true)"


def lake_tables_present(settings: Settings) -> list[str]:
    """Canonical tables with at least one partition file in the lake."""
    root = settings.paths.lake_raw
    return [
        name
        for name in TABLES
        if (root / name).is_dir() and next((root / name).glob(PARTITION_GLOB), None)
    ]


def lake_partition_files(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame:
    """One row per partition file: ``table_name, source, date, file, missing_columns``.

    ``missing_columns`` lists the canonical columns absent from that file (null if none).
    """
    rows = []
    for name in lake_tables_present(settings):
        table = TABLES[name]
        glob = lake_glob(settings, name).replace("'", "''")
        found = con.execute(
            f"select file_name, list(name) from parquet_schema('{glob}') group by file_name"
        ).fetchall()
        for file_name, cols in found:
            missing = [c for c in table.columns if c not in set(cols)]
            parts = dict(p.split("=", 1) for p in file_name.split("/") if "=" in p)
            rows.append(
                {
                    "table_name": name,
                    "source": parts.get("source"),
                    "date": parts.get("date"),
                    "file": file_name,
                    "missing_columns": ", ".join(missing) or None,
                }
            )
    return pd.DataFrame(
        rows, columns=["table_name", "source", "date", "file", "missing_columns"]
    ).astype(object)


def _union_columns(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    table: str,
    files: Sequence[Path] | None = None,
) -> set[str]:
    relation = _read(settings, table, files)
    return {r[0] for r in con.execute(f"describe select * from {relation}").fetchall()}


def lake_table_columns(table: Table) -> list[str]:
    """The columns ``load_lake_table`` returns: key, checked columns, source and date."""
    wanted = [*table.key, *LAKE_VALUE_COLUMNS.get(table.name, ()), *CURRENCY_COLUMNS[table.name]]
    return [*dict.fromkeys(wanted), "source", "date"]


def part_filter(key: Sequence[str], part: int = 0, parts: int = 1) -> str:
    """SQL condition that keeps part ``part`` (0-based) of ``parts`` of a table's rows.

    Rows are split by a hash of the ``key`` columns, so rows with equal keys fall in the
    same part: uniqueness checked part by part is uniqueness of the whole table.
    """
    if parts <= 1 or not key:
        return "true"
    cols = ", ".join(f'"{c}"' for c in key)
    return f"hash({cols}) % {int(parts)} = {int(part)}"


def count_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Rows of a table or of a ``read_parquet(...)`` relation."""
    (n,) = con.execute(f"select count(*) from {relation}").fetchone()
    return int(n)


def lake_row_count(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    table: Table,
    files: Sequence[Path] | None = None,
) -> int:
    """Rows of a lake table (of ``files`` only when given)."""
    if files is not None and not files:
        return 0
    return count_rows(con, _read(settings, table.name, files))


def load_lake_table(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    table: Table,
    part: int = 0,
    parts: int = 1,
    files: Sequence[Path] | None = None,
) -> pd.DataFrame:
    """The key and checked columns of a lake table, with ``source`` and ``date``.

    ``part``/``parts``: one hash part of the rows by the table's grain (key, source, date).
    ``files``: only these partition files (``lake_scope``), else every partition.
    """
    present = _union_columns(con, settings, table.name, files)
    cols = []
    for c in lake_table_columns(table)[:-2]:
        cols.append(f'"{c}"' if c in present else f'null as "{c}"')
    # a key column missing from every file is null in every row: it splits nothing
    key = [c for c in table.key if c in present] + ["source", "date"]
    sql = (
        f'select {", ".join(cols)}, "source", cast("date" as date) as "date" '
        f"from {_read(settings, table.name, files)} where {part_filter(key, part, parts)}"
    )
    return con.execute(sql).df()


def freshness(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, tables: list[str]
) -> pd.DataFrame:
    """Per table and source: latest partition date and its lag in days behind ``run_date``."""
    parts = [
        f"select '{t}' as table_name, source, max(cast(\"date\" as date)) as latest_date "
        f"from {_read(settings, t)} group by source"
        for t in tables
    ]
    if not parts:
        return pd.DataFrame(columns=["table_name", "source", "latest_date", "run_date", "lag_days"])
    sql = (
        "select table_name, source, latest_date, ?::date as run_date, "
        "date_diff('day', latest_date, ?::date) as lag_days "
        f"from ({' union all '.join(parts)}) order by table_name, source"
    )
    return con.execute(sql, [run_date, run_date]).df()


def volume(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    table: str,
    data_dates: list[date] | None = None,
) -> pd.DataFrame:
    """Daily rows (and spend for ad delivery) per source against the trailing median.

    Every day between a source's first and last partition is present (a missing day has
    0 rows). ``rows_ratio`` / ``spend_ratio`` are the day's value over the median of the
    earlier days in the trailing ``volume_window_days``: with ``volume_seasonality:
    weekday`` (the default) only the same weekdays count, so a B2B platform's quiet
    weekend is compared with earlier weekends, not with weekdays. A ratio is null while
    fewer than three earlier days exist, or while the median is below the configured
    baseline (``volume_min_baseline_rows`` / ``volume_min_baseline_spend``): tiny volumes
    are noise, not anomalies. With ``data_dates``, only those days are returned.
    """
    q = settings.quality
    weekday = q.volume_seasonality == "weekday"
    window = -(-q.volume_window_days // 7) if weekday else q.volume_window_days
    season = "isodow(day)" if weekday else "0"
    spend = "sum(spend_micros) / 1e6" if table == "ad_delivery" else "null::double"
    sql = f"""
        with daily as (
            select source, cast("date" as date) as day, count(*) as row_count, {spend} as spend
            from {_read(settings, table)}
            group by all
        ),
        bounds as (
            select source, min(day) as first_day, max(day) as last_day from daily group by source
        ),
        calendar as (
            select
                source,
                cast(unnest(range(first_day, last_day + 1, interval 1 day)) as date) as day
            from bounds
        ),
        filled as (
            select
                c.source,
                c.day,
                coalesce(d.row_count, 0) as row_count,
                coalesce(d.spend, 0) as spend
            from calendar as c
            left join daily as d on c.source = d.source and c.day = d.day
        ),
        with_history as (
            select
                *,
                count(*) over w as history_days,
                median(row_count) over w as rows_median,
                median(spend) over w as spend_median
            from filled
            window w as (
                partition by source, {season} order by day
                rows between {window} preceding and 1 preceding
            )
        )
        select
            '{table}' as table_name,
            source,
            day as "date",
            row_count,
            rows_median,
            case when history_days >= {VOLUME_MIN_HISTORY_DAYS}
                and rows_median >= {max(q.volume_min_baseline_rows, 1e-9)}
                then row_count / rows_median end as rows_ratio,
            spend,
            spend_median,
            case when history_days >= {VOLUME_MIN_HISTORY_DAYS}
                and spend_median >= {max(q.volume_min_baseline_spend, 1e-9)}
                then spend / spend_median end as spend_ratio
        from with_history
        order by source, day
    """
    df = con.execute(sql).df()
    if data_dates:
        keep = pd.to_datetime(pd.Series(sorted(set(data_dates))))
        df = df[df["date"].isin(keep)].reset_index(drop=True)
    return df


def _fx_rates_sql(settings: Settings) -> str:
    """Rows ``(rate_date, currency, to_reporting)``: one reporting-currency unit rate per day.

    Direct rates (base = reporting currency) win over cross rates through another base
    (the ECB's EUR); the inverse of a reporting-currency quote gives the base itself.
    """
    rep = settings.reporting.currency
    if "fx_rates" not in lake_tables_present(settings):
        return (
            "select null::date as rate_date, null::varchar as currency, "
            "null::double as to_reporting where false"
        )
    return f"""
        with fx as (
            select cast(rate_date as date) as rate_date, upper(base_currency) as base,
                upper(currency) as cur, rate
            from {_read(settings, "fx_rates")}
            where rate > 0
        ),
        candidates as (
            select rate_date, cur as currency, rate as to_reporting, 1 as priority
            from fx where base = '{rep}'
            union all
            select rate_date, base as currency, 1 / rate, 2
            from fx where cur = '{rep}' and base <> '{rep}'
            union all
            select a.rate_date, a.cur, a.rate / b.rate, 3
            from fx as a
            inner join fx as b
                on a.rate_date = b.rate_date and a.base = b.base and b.cur = '{rep}'
            where a.base <> '{rep}' and a.cur <> '{rep}'
        )
        select rate_date, currency, arg_min(to_reporting, priority) as to_reporting
        from candidates
        group by rate_date, currency
    """


def _lake_spend_rows_sql(settings: Settings) -> str:
    """Lake ad delivery rows (latest delivery per key) with the reporting-currency rate."""
    rep = settings.reporting.currency
    key = ", ".join(TABLES["ad_delivery"].key)
    return f"""
        with delivery as (
            select *, upper(account_currency) as currency
            from {_read(settings, "ad_delivery")}
            qualify row_number() over (
                partition by {key} order by cast("date" as date) desc
            ) = 1
        ),
        rates as ({_fx_rates_sql(settings)})
        select
            d.platform,
            cast(d.spend_date as date) as spend_date,
            d.currency,
            d.spend_micros,
            case
                when d.currency = '{rep}' then 1.0
                when date_diff('day', r.rate_date, cast(d.spend_date as date))
                    <= {FX_MAX_STALENESS_DAYS} then r.to_reporting
            end as to_reporting,
            r.rate_date
        from delivery as d
        asof left join rates as r
            on d.currency = r.currency and cast(d.spend_date as date) >= r.rate_date
    """


def fx_coverage(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame:
    """Per account currency and spend day: the reporting-currency rate used (null: none)."""
    if "ad_delivery" not in lake_tables_present(settings):
        return pd.DataFrame(columns=["currency", "spend_date", "rate_date", "to_reporting", "rows"])
    sql = f"""
        select currency, spend_date, any_value(rate_date) as rate_date,
            any_value(to_reporting) as to_reporting, count(*) as rows
        from ({_lake_spend_rows_sql(settings)})
        group by currency, spend_date
        order by currency, spend_date
    """
    return con.execute(sql).df()


def spend_reconciliation(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame | None:
    """Per platform and day: spend in ``fct_ad_spend_daily`` vs the lake, converted.

    Platform-days with a spend row lacking a currency rate are left out (the rate check
    reports them). None when the mart or the lake table is missing.
    """
    mart = resolve_table(con, "fct_ad_spend_daily")
    if mart is None or "ad_delivery" not in lake_tables_present(settings):
        return None
    sql = f"""
        with lake_rows as ({_lake_spend_rows_sql(settings)}),
        lake as (
            select platform, spend_date,
                sum(spend_micros / 1e6 * to_reporting) as lake_spend,
                bool_and(to_reporting is not null or coalesce(spend_micros, 0) = 0) as has_rates
            from lake_rows
            group by platform, spend_date
        ),
        mart as (
            select platform, cast(spend_date as date) as spend_date, sum(spend) as mart_spend
            from {mart}
            where platform in (select distinct platform from lake_rows)
            group by platform, spend_date
        ),
        joined as (
            select
                coalesce(l.platform, m.platform) as platform,
                coalesce(l.spend_date, m.spend_date) as spend_date,
                coalesce(l.lake_spend, 0) as lake_spend,
                coalesce(m.mart_spend, 0) as mart_spend,
                coalesce(l.has_rates, true) as has_rates
            from lake as l
            full outer join mart as m on l.platform = m.platform and l.spend_date = m.spend_date
        )
        select platform, spend_date, lake_spend, mart_spend,
            abs(mart_spend - lake_spend) as abs_difference
        from joined
        where has_rates
        order by platform, spend_date
    """
    return con.execute(sql).df()


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> set[str]:
    return {r[0] for r in con.execute(f"describe select * from {qualified}").fetchall()}


def credit_sums(
    con: duckdb.DuckDBPyConnection, part: int = 0, parts: int = 1
) -> pd.DataFrame | None:
    """Per conversion and model: the sum of credits in ``fct_attributed_conversions``.

    ``part``/``parts``: the conversions of one hash part (by ``conversion_id``).
    """
    fct = resolve_table(con, "fct_attributed_conversions")
    if fct is None:
        return None
    sql = f"""
        select conversion_id, model, count(*) as touchpoints, sum(credit) as credit_sum
        from {fct}
        where {part_filter(["conversion_id"], part, parts)}
        group by conversion_id, model
        order by model, conversion_id
    """
    return con.execute(sql).df()


def attribution_credit_tables(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> list[tuple[str, str]]:
    """(name, qualified name) of the configured models' ``attr_<model>`` tables that exist."""
    out = []
    for model in settings.attribution.models:
        name = f"attr_{model}"
        qualified = resolve_table(con, name)
        if qualified is not None and {"conversion_id", "model", "credit"} <= _columns(
            con, qualified
        ):
            out.append((name, qualified))
    return out


def attribution_credit_sums(
    con: duckdb.DuckDBPyConnection, settings: Settings, part: int = 0, parts: int = 1
) -> pd.DataFrame | None:
    """Per attribution table, conversion and model: the sum of credits in ``attr_<model>``.

    The attribution tables (one per configured model) are what the facts are built from;
    checking them too names the model table at fault. None when none of them exists.
    ``part``/``parts``: the conversions of one hash part (by ``conversion_id``).

    The sums are computed once per connection, into a temporary table the parts are read
    from: the rule-based models are views, which a read per part computed again for every
    part (at 10M events 6.5 s for seven parts, 4.0 s this way). The gate opens a
    connection of its own each time, so the sums are those of the warehouse it checks.
    """
    tables = attribution_credit_tables(con, settings)
    if not tables:
        return None
    sums = "gate_attribution_credit_sums"
    (exists,) = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = ?", [sums]
    ).fetchone()
    if not exists:
        selects = [
            f"select '{name}' as table_name, conversion_id, model, count(*) as touchpoints, "
            f"sum(credit) as credit_sum from {qualified} group by conversion_id, model"
            for name, qualified in tables
        ]
        con.execute(f"create temp table {sums} as " + " union all ".join(selects))
    where = part_filter(["conversion_id"], part, parts)
    return con.execute(
        f"select * from {sums} where {where} order by table_name, model, conversion_id"
    ).df()


def conversion_totals(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame | None:
    """Per model: attributed conversions and value against the conversions' count and value.

    The conversions come from ``int_conversions`` (``conversion_id``, ``conversion_value``)
    when it exists, else from the distinct conversions of the fact table. Every configured
    model has a row, so a model missing from the facts shows as 0 attributed.
    """
    fct = resolve_table(con, "fct_attributed_conversions")
    if fct is None:
        return None
    conv = resolve_table(con, "int_conversions")
    if conv is not None and {"conversion_id", "conversion_value"} <= _columns(con, conv):
        conversions = f"select conversion_id, conversion_value from {conv}"
    else:
        conversions = (
            f"select conversion_id, any_value(conversion_value) as conversion_value "
            f"from {fct} group by conversion_id"
        )
    models = ", ".join(f"('{m}')" for m in settings.attribution.models)
    sql = f"""
        with conversions as ({conversions}),
        totals as (
            select count(distinct conversion_id) as conversions,
                coalesce(sum(conversion_value), 0) as conversion_value
            from conversions
        ),
        models as (
            select model from (values {models}) as m(model)
            union
            select distinct model from {fct}
        ),
        attributed as (
            select model, sum(credit) as attributed_conversions,
                sum(attributed_value) as attributed_value
            from {fct}
            group by model
        )
        select
            m.model,
            t.conversions,
            coalesce(a.attributed_conversions, 0) as attributed_conversions,
            abs(coalesce(a.attributed_conversions, 0) - t.conversions)
                / greatest(t.conversions, 1) as conversions_relative_difference,
            t.conversion_value,
            coalesce(a.attributed_value, 0) as attributed_value,
            abs(coalesce(a.attributed_value, 0) - t.conversion_value) as value_difference
        from models as m
        cross join totals as t
        left join attributed as a on m.model = a.model
        order by m.model
    """
    return con.execute(sql).df()


def conversion_counts(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame | None:
    """Per conversion type: conversions in the warehouse vs conversion events in the lake.

    A lake conversion is a distinct ``coalesce(order_id, event_id)`` among the events
    whose name is one of the type's events (a purchase tracked twice is one order).
    """
    if "events" not in lake_tables_present(settings) or not settings.conversion_types:
        return None
    conv = resolve_table(con, "int_conversions")
    if conv is not None and {"conversion_id", "conversion_type"} <= _columns(con, conv):
        warehouse = f"select conversion_type, conversion_id from {conv}"
    else:
        fct = resolve_table(con, "fct_attributed_conversions")
        if fct is None:
            return None
        warehouse = f"select distinct conversion_type, conversion_id from {fct}"
    mapping = ", ".join(
        f"('{name.replace(chr(39), chr(39) * 2)}', '{ev.replace(chr(39), chr(39) * 2)}')"
        for name, ct in settings.conversion_types.items()
        for ev in ct.events
    )
    sql = f"""
        with types as (
            select * from (values {mapping}) as t(conversion_type, event_name)
        ),
        lake as (
            select t.conversion_type,
                count(distinct coalesce(nullif(e.order_id, ''), e.event_id)) as lake_conversions
            from {_read(settings, "events")} as e
            inner join types as t on e.event_name = t.event_name
            group by t.conversion_type
        ),
        warehouse as (
            select conversion_type, count(distinct conversion_id) as warehouse_conversions
            from ({warehouse})
            group by conversion_type
        ),
        all_types as (select distinct conversion_type from types)
        select
            a.conversion_type,
            coalesce(l.lake_conversions, 0) as lake_conversions,
            coalesce(w.warehouse_conversions, 0) as warehouse_conversions,
            abs(coalesce(w.warehouse_conversions, 0) - coalesce(l.lake_conversions, 0))
                as difference
        from all_types as a
        left join lake as l on a.conversion_type = l.conversion_type
        left join warehouse as w on a.conversion_type = w.conversion_type
        order by a.conversion_type
    """
    return con.execute(sql).df()


def table_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> dict[str, str]:
    """Column name -> DuckDB data type of a table."""
    return {r[0]: r[1] for r in con.execute(f"describe select * from {qualified}").fetchall()}


def load_table(
    con: duckdb.DuckDBPyConnection,
    qualified: str,
    columns: list[str],
    key: Sequence[str] = (),
    part: int = 0,
    parts: int = 1,
) -> pd.DataFrame:
    """The given columns of a warehouse table as pandas: all rows, or one hash part of
    them by ``key`` (by every loaded column when the table has no key)."""
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    where = part_filter(list(key) or columns, part, parts)
    return con.execute(f"select {cols} from {qualified} where {where}").df()
