"""The gate's expectation suites, built in Python from typed expectation classes.

``build_checks`` returns one ``Check`` per suite: the frame to validate (from
``frames``), the suite's expectations, and the table name failures are reported on.
Suites: ``lake.<table>`` (grain, values, currency codes), ``lake.<table>.files``
(canonical columns), ``lake.<table>.freshness``, ``lake.<table>.volume``,
``lake.fx_coverage``, ``warehouse.contract`` (fixed columns and types of the published
marts), ``warehouse.intermediate_contract``, ``int.<table>``, ``mart.<name>``, and the
reconciliations ``reconcile.spend``, ``reconcile.credits`` (the facts),
``reconcile.attribution_credits`` (each ``attr_<model>`` table), ``reconcile.conversion_totals``,
``reconcile.conversion_counts``.

The ``lake.<table>`` suites read the partitions a passed gate has not validated unchanged
(``lake_scope``); the others read everything they compare.

Severity: ``critical`` (reported as ``error``) blocks publication; ``warning`` is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd
from great_expectations.expectations.expectation import Expectation

from pipelines.canonical import TABLES
from pipelines.config import Settings
from pipelines.quality import expectations as ex
from pipelines.quality import frames, lake_scope
from pipelines.quality.warehouse_tables import (
    DATE,
    FIXED_COLUMNS,
    INTERMEDIATE_TABLES,
    NUMBER,
    STRING,
    TIMESTAMP,
    mart_grain,
    resolve_table,
)

ERROR, WARNING = "critical", "warning"

NON_NEGATIVE_COLUMNS = (
    "spend",
    "spend_account_currency",
    "spend_micros",
    "impressions",
    "clicks",
    "link_clicks",
)
COST_PER_RESULT_COLUMNS = ("cpa", "cpl", "cps", "cpi")
DATE_BASES = ("conversion", "touch")


@dataclass
class Check:
    """One suite validated against one frame.

    ``frame`` is either the frame itself (small ones) or a function ``frame(part, parts)``
    that reads one part of it, with ``rows()`` counting the rows to validate. The gate then
    reads a big table (the lake's events, the attributed facts) only when its suite runs,
    in parts of at most ``quality.gate_part_rows`` rows split by a hash of the key
    (``frames.part_filter``), and drops each part after validating it: the gate's memory
    stays bounded by the part size, not the size of the data.
    """

    suite: str
    table: str
    frame: pd.DataFrame | Callable[[int, int], pd.DataFrame]
    expectations: list[Expectation]
    # A column of the frame naming the table of each row (frames spanning tables): the
    # gate then reports one failure per table.
    split_by: str | None = None
    key: tuple[str, ...] = field(default_factory=tuple)
    rows: Callable[[], int] | None = None

    def parts(self, part_rows: int) -> int:
        """How many parts the frame is validated in (1 for a frame given whole)."""
        if not callable(self.frame) or self.rows is None:
            return 1
        return max(1, -(-self.rows() // max(1, part_rows)))

    def load(self, part: int = 0, parts: int = 1) -> pd.DataFrame:
        return self.frame(part, parts) if callable(self.frame) else self.frame


def _type_matches(family: str, data_type: str | None) -> bool | None:
    if data_type is None:
        return None
    t = data_type.upper()
    if family == STRING:
        return t in ("VARCHAR", "TEXT", "STRING") or t.startswith("VARCHAR")
    if family == DATE:
        return t == "DATE"
    if family == TIMESTAMP:
        return t.startswith("TIMESTAMP")
    if family == NUMBER:
        numeric = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
        return t.startswith(("DECIMAL", "U")) or t in numeric
    return True


def _contract_frame(
    con: duckdb.DuckDBPyConnection, tables: dict[str, dict[str, str]]
) -> pd.DataFrame:
    rows = []
    for name, fixed in tables.items():
        qualified = resolve_table(con, name)
        actual = frames.table_columns(con, qualified) if qualified else {}
        rows.append(
            {
                "table_name": name,
                "column_name": "*",
                "expected_type": "table",
                "data_type": "table" if qualified else None,
                "type_matches": True,
            }
        )
        for col, family in fixed.items():
            dt = actual.get(col)
            rows.append(
                {
                    "table_name": name,
                    "column_name": col,
                    "expected_type": family,
                    "data_type": dt,
                    "type_matches": True if dt is None else _type_matches(family, dt),
                }
            )
    return pd.DataFrame(
        rows, columns=["table_name", "column_name", "expected_type", "data_type", "type_matches"]
    ).astype(object)


def _value_expectations(settings: Settings, columns: set[str], table: str) -> list[Expectation]:
    """Value rules that apply to any table by column name."""
    q = settings.quality
    out: list[Expectation] = []
    for col in NON_NEGATIVE_COLUMNS:
        if col in columns:
            out.append(ex.ExpectNonNegative(column=col, severity=ERROR))
    if "date_basis" in columns:
        out.append(
            ex.ExpectAcceptedValues(column="date_basis", value_set=list(DATE_BASES), severity=ERROR)
        )
    if "model" in columns:
        out.append(
            ex.ExpectAcceptedValues(
                column="model", value_set=list(settings.attribution.models), severity=ERROR
            )
        )
    if "credit" in columns:
        out.append(ex.ExpectCreditWithinUnitInterval(severity=ERROR))
    if "ctr" in columns:
        out.append(ex.ExpectRateWithinUnitInterval(column="ctr", severity=ERROR))
    if "cvr" in columns:
        # Attributed conversions per click may exceed 1 on a small campaign-day: reported.
        out.append(ex.ExpectRateWithinUnitInterval(column="cvr", severity=WARNING))
    if "roas" in columns:
        out.append(ex.ExpectRoasWithinSanityBound(max_value=q.roas_max, severity=WARNING))
    for col in COST_PER_RESULT_COLUMNS:
        if col in columns:
            out.append(
                ex.ExpectCostPerResultWithinSanityBound(
                    column=col, max_value=q.cpa_max, severity=WARNING
                )
            )
    return out


def _grain_expectations(
    grain: tuple[tuple[str, ...], tuple[str, ...]] | None, columns: set[str]
) -> list[Expectation]:
    if grain is None:
        return []
    key, not_null = grain
    out: list[Expectation] = [
        ex.ExpectKeyNotNull(column=c, severity=ERROR) for c in not_null if c in columns
    ]
    present = [c for c in key if c in columns]
    if len(present) > 1:
        out.append(ex.ExpectGrainUnique(column_list=present, severity=ERROR))
    elif len(present) == 1:
        out.append(ex.ExpectKeyUnique(column=present[0], severity=ERROR))
    return out


def lake_checks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_date: date,
    data_dates: list[date] | None,
    full: bool = False,
    scopes: list[lake_scope.LakeScope] | None = None,
) -> list[Check]:
    """The lake's checks. A table's row checks (``lake.<table>``) read only the partitions
    a passed gate has not validated unchanged (``lake_scope``; all with ``full``); each
    table's scope is appended to ``scopes`` for the gate to record once it passes."""
    q = settings.quality
    present = frames.lake_tables_present(settings)
    record = {} if full else lake_scope.read_record(settings)
    checks: list[Check] = []
    files = frames.lake_partition_files(con, settings)
    if len(files):
        checks.append(
            Check(
                "lake.files",
                "lake",
                files,
                [ex.ExpectLakeFilesHaveCanonicalColumns(severity=ERROR)],
                split_by="table_name",
            )
        )
    for name in present:
        table = TABLES[name]
        cols = set(frames.lake_table_columns(table))
        nullable = frames.NULLABLE_KEY_COLUMNS.get(name, set())
        exps: list[Expectation] = [
            ex.ExpectKeyNotNull(column=c, severity=ERROR) for c in table.key if c not in nullable
        ]
        exps.append(
            ex.ExpectGrainUnique(column_list=[*table.key, "source", "date"], severity=ERROR)
        )
        exps += [
            ex.ExpectNonNegative(column=c, severity=ERROR)
            for c in NON_NEGATIVE_COLUMNS
            if c in cols
        ]
        exps += [
            ex.ExpectCurrencyCode(column=c, severity=ERROR)
            for c in frames.CURRENCY_COLUMNS.get(name, ())
        ]
        if name == "fx_rates":
            exps.append(ex.ExpectPositiveRate(severity=ERROR))
        scope = lake_scope.plan(settings, name, exps, full=full, record=record)
        if scopes is not None:
            scopes.append(scope)
        if not scope.files:
            continue  # every partition validated unchanged by a passed gate
        read = None if scope.complete else scope.files  # None: the whole table's glob
        checks.append(
            Check(
                f"lake.{name}",
                f"lake.{name}",
                lambda part, parts, table=table, read=read: frames.load_lake_table(
                    con, settings, table, part, parts, read
                ),
                exps,
                key=(*table.key, "source", "date"),
                rows=lambda table=table, read=read: frames.lake_row_count(
                    con, settings, table, read
                ),
            )
        )

    fresh = frames.freshness(con, settings, run_date, present)
    for severity, part in (
        (ERROR, fresh[fresh["table_name"] != "fx_rates"]),
        (WARNING, fresh[fresh["table_name"] == "fx_rates"]),
    ):
        if len(part):
            checks.append(
                Check(
                    f"lake.freshness.{severity}",
                    "lake",
                    part.reset_index(drop=True),
                    [ex.ExpectSourceFresh(max_value=q.freshness_max_lag_days, severity=severity)],
                    split_by="table_name",
                )
            )

    bounds = {"min_value": q.volume_min_ratio, "max_value": q.volume_max_ratio}
    volume_severity = {
        "ad_delivery": ERROR,
        "events": ERROR,
        "affiliate_transactions": WARNING,
        "app_installs": WARNING,
    }
    for name, severity in volume_severity.items():
        if name not in present:
            continue
        vol = frames.volume(con, settings, name, data_dates)
        if not len(vol):
            continue
        exps = [ex.ExpectDailyRowsNearTrailingMedian(severity=severity, **bounds)]
        if name == "ad_delivery":
            exps.append(ex.ExpectDailySpendNearTrailingMedian(severity=severity, **bounds))
        checks.append(Check(f"lake.{name}.volume", f"lake.{name}", vol, exps))

    fx = frames.fx_coverage(con, settings)
    if len(fx):
        checks.append(
            Check(
                "lake.fx_coverage", "lake.fx_rates", fx, [ex.ExpectFxRateAvailable(severity=ERROR)]
            )
        )
    return checks


def warehouse_checks(
    con: duckdb.DuckDBPyConnection, settings: Settings, marts: list[str]
) -> list[Check]:
    checks: list[Check] = []
    contract = _contract_frame(con, {m: FIXED_COLUMNS.get(m, {}) for m in marts})
    checks.append(
        Check(
            "warehouse.contract",
            "warehouse",
            contract,
            [ex.ExpectFixedColumnPresent(severity=ERROR), ex.ExpectFixedColumnType(severity=ERROR)],
            split_by="table_name",
        )
    )
    intermediate = _contract_frame(con, {name: {} for name in INTERMEDIATE_TABLES})
    checks.append(
        Check(
            "warehouse.intermediate_contract",
            "warehouse",
            intermediate,
            [ex.ExpectFixedColumnPresent(severity=WARNING)],
            split_by="table_name",
        )
    )

    for name in INTERMEDIATE_TABLES:
        qualified = resolve_table(con, name)
        if qualified is None:
            continue
        cols = set(frames.table_columns(con, qualified))
        exps: list[Expectation] = []
        key = ("conversion_id",) if "conversion_id" in cols else ()
        if name == "int_conversions" and "conversion_id" in cols:
            exps += [
                ex.ExpectKeyNotNull(column="conversion_id", severity=ERROR),
                ex.ExpectKeyUnique(column="conversion_id", severity=ERROR),
            ]
        elif "conversion_id" in cols:
            exps.append(ex.ExpectKeyNotNull(column="conversion_id", severity=ERROR))
        exps += [
            ex.ExpectNonNegative(column=c, severity=ERROR)
            for c in NON_NEGATIVE_COLUMNS
            if c in cols
        ]
        if not exps:
            continue
        needed = sorted({e.column for e in exps if getattr(e, "column", None)})
        checks.append(_table_check(con, f"int.{name}", name, qualified, needed, exps, key=key))

    for name in marts:
        qualified = resolve_table(con, name)
        if qualified is None:
            continue  # reported by warehouse.contract
        cols = set(frames.table_columns(con, qualified))
        grain = mart_grain(settings, name)
        exps = _grain_expectations(grain, cols) + _value_expectations(settings, cols, name)
        if name in ("fct_ad_spend_daily", "fct_attributed_conversions"):
            exps.append(ex.ExpectTableNotEmpty(severity=ERROR))
        needed = set()
        for e in exps:
            if getattr(e, "column", None):
                needed.add(e.column)
            needed.update(getattr(e, "column_list", None) or [])
        key = tuple(c for c in (grain[0] if grain else ()) if c in cols)
        needed.update(key)
        checks.append(
            _table_check(con, f"mart.{name}", name, qualified, sorted(needed), exps, key=key)
        )
    return checks


def _table_check(
    con: duckdb.DuckDBPyConnection,
    suite: str,
    table: str,
    qualified: str,
    columns: list[str],
    exps: list[Expectation],
    key: tuple[str, ...] = (),
) -> Check:
    """A suite on some columns of a warehouse table, read in hash parts by ``key``."""
    return Check(
        suite,
        table,
        lambda part, parts: frames.load_table(con, qualified, columns, key, part, parts),
        exps,
        key=key,
        rows=lambda: frames.count_rows(con, qualified),
    )


def reconciliation_checks(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Check]:
    checks: list[Check] = []
    spend = frames.spend_reconciliation(con, settings)
    if spend is not None and len(spend):
        checks.append(
            Check(
                "reconcile.spend",
                "fct_ad_spend_daily",
                spend,
                [ex.ExpectSpendMatchesLake(severity=ERROR)],
            )
        )
    fct = resolve_table(con, "fct_attributed_conversions")
    fct_rows = frames.count_rows(con, fct) if fct is not None else 0
    if fct_rows:
        checks.append(
            Check(
                "reconcile.credits",
                "fct_attributed_conversions",
                lambda part, parts: frames.credit_sums(con, part, parts),
                [ex.ExpectCreditsSumToOne(severity=ERROR)],
                # parts sized by the fact's rows: at least as many as the sums'
                rows=lambda: fct_rows,
            )
        )
    attr_rows = sum(
        frames.count_rows(con, qualified)
        for _, qualified in frames.attribution_credit_tables(con, settings)
    )
    if attr_rows:
        checks.append(
            Check(
                "reconcile.attribution_credits",
                "attribution",
                lambda part, parts: frames.attribution_credit_sums(con, settings, part, parts),
                [ex.ExpectCreditsSumToOne(severity=ERROR)],
                split_by="table_name",
                rows=lambda: attr_rows,
            )
        )
    totals = frames.conversion_totals(con, settings)
    if totals is not None and len(totals):
        checks.append(
            Check(
                "reconcile.conversion_totals",
                "fct_attributed_conversions",
                totals,
                [
                    ex.ExpectAttributedConversionsMatchConversions(severity=ERROR),
                    ex.ExpectAttributedValueMatchesConversionValue(severity=ERROR),
                ],
            )
        )
    counts = frames.conversion_counts(con, settings)
    if counts is not None and len(counts):
        checks.append(
            Check(
                "reconcile.conversion_counts",
                "int_conversions",
                counts,
                [ex.ExpectConversionsMatchLakeEvents(severity=ERROR)],
            )
        )
    return checks


def build_checks(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    marts: list[str],
    run_date: date,
    data_dates: list[date] | None,
    full: bool = False,
    scopes: list[lake_scope.LakeScope] | None = None,
) -> list[Check]:
    """Every check of the gate, in reporting order: lake, warehouse, reconciliation.

    ``full`` and ``scopes``: see ``lake_checks``."""
    return (
        lake_checks(con, settings, run_date, data_dates, full, scopes)
        + warehouse_checks(con, settings, marts)
        + reconciliation_checks(con, settings)
    )
