"""Engine parity: the same dbt project on DuckDB and on Apache Spark, mart for mart.

``python -m pipelines.parity`` (``make test-spark``; run inside ``.venv-spark``):

1. In the main environment (``.venv``, a subprocess: ``duckdb-side``): synthetic landing
   data for every source (``pipelines.synth.generate``: several currencies, small: 300
   people, 10 days by default), ingested into the lake, built on DuckDB
   (``pipelines.warehouse.build``) with every attribution model and two pacing targets;
   every published mart (tag ``published``) exported to Parquet.
2. Here, in ``.venv-spark``: the same lake (copied), built on Spark with the same settings
   (``warehouse.target = spark``: dbt-spark ``method: session``, ``local[2]``, or a
   standalone cluster with ``--cluster``: one master and two workers started from the
   pyspark package, bound to 127.0.0.1, stopped by PID afterwards): models, seeds, data
   tests and every unit test, and the engine-dependent macros evaluated on literals
   (:data:`MACRO_PROBE_SQL`, compared with DuckDB's values).
3. Every published mart compared row for row: same columns, same rows; money columns to
   the cent, every other number to 1e-9 (relative above 1); text, dates, timestamps and
   booleans exactly; `built_at` (when the row was written) is left out. Any difference is
   reported (mart, column, the first differing rows) and the exit code is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.config import DBT_PROJECT_DIR, PROJECT_ROOT

MAIN_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
# columns that say when a row was written (macro build_started_at), not what it holds:
# left out wherever two builds are compared (here, and the tests' comparisons)
BUILD_COLUMNS = ("built_at",)
SALT = "engine-parity-salt"
START = dt.date(2026, 3, 1)
TARGETS_YAML = (
    "[{platform: google_ads, campaign_id: '111000111', target_cpa: 50, target_roas: 1.0,"
    " daily_budget: 15}, {channel: Paid Social, target_cpa: 100, target_roas: 2.5,"
    " daily_budget: 5}]"
)
# Money (reporting currency): equal to the cent. Other numbers: to 1e-9 (relative above 1).
MONEY = re.compile(r"(spend|value|cost|budget|revenue|^cp[acmlsi]$|cac|ltv)")
NOT_MONEY = re.compile(r"(share|credit|rate|roas|ratio|ltv_cac|effect|ctr|cvr|_z$|p_value)")
MONEY_TOLERANCE = 0.005
NUMBER_TOLERANCE = 1e-9


# The project macros whose SQL differs by engine, evaluated on literals (dbt show): the
# DuckDB unit test checks the values, the parity run checks Spark gives the same.
MACRO_PROBE_SQL = """
select
    {{ safe_cast("'n/a'", dbt.type_int()) }} as safe_cast_bad,
    {{ safe_cast("'42'", dbt.type_int()) }} as safe_cast_good,
    {{ seconds_between(
        "cast('2026-03-01 20:00:00' as timestamp)", "cast('2026-03-02 09:30:00.5' as timestamp)"
    ) }} as seconds_between,
    {{ regex_match("'(direct)'", sql_string('^\\(direct\\)$')) }} as regex_hit,
    {{ regex_match("'direct'", sql_string('^\\(direct\\)$')) }} as regex_miss,
    cast({{ local_timestamp("cast('2026-03-29 01:30:00' as timestamp)", 'Europe/Berlin') }}
        as {{ dbt.type_string() }}) as local_berlin,
    {{ reporting_date("cast('2026-03-01 23:30:00' as timestamp)") }} as reporting_day,
    {{ url_host("'https://www.Example.com:8080/a?b=1'") }} as url_host,
    {{ surrogate_key(["'a'", 'null']) }} as surrogate_key,
    {{ sql_string("it's a \\ test") }} as quoted,
    cast(1 as {{ type_double() }}) / 4 as quarter,
    (
        select {{ ordered_string_agg('c', "' > '", 'p') }}
        from (values (2, 'b'), (1, 'a'), (3, 'c')) as v (p, c)
    ) as ordered_path,
    '{{ replace_slices_by(["d"])["incremental_strategy"] }}' as incremental_strategy,
    '{{ register_lake_tables() | trim }}' as lake_hook_sql
"""
MACRO_PROBE_EXPECTED = {
    "safe_cast_bad": None,
    "safe_cast_good": 42,
    "seconds_between": 48600.5,
    "regex_hit": True,
    "regex_miss": False,
    "local_berlin": "2026-03-29 03:30:00",
    "reporting_day": "2026-03-01",
    "url_host": "example.com",
    "quoted": "it's a \\ test",
    "quarter": 0.25,
    "ordered_path": "a > b > c",
}


def probe_macros(settings) -> dict[str, Any]:
    """The engine-dependent macros evaluated on this target (values as plain Python)."""
    from pipelines.warehouse import dbt_invoke

    res = dbt_invoke(settings, ["show", "--inline", MACRO_PROBE_SQL, "--log-level", "none"])
    if not res.success:
        raise SystemExit(f"parity: the macro probe failed on {settings.warehouse.target}: "
                         f"{res.exception}")  # fmt: skip
    table = res.result.results[0].agate_table
    row = dict(zip(table.column_names, table.rows[0].values(), strict=True))
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif hasattr(value, "as_tuple"):  # Decimal
            out[key] = int(value) if value == int(value) else float(value)
        elif isinstance(value, dt.date):
            out[key] = str(value)[:19]
        else:
            out[key] = str(value)[:19] if key == "local_berlin" else value
    return out


def attribution_models() -> list[str]:
    """Every attribution model of the project (attr_<name>.sql / .py)."""
    folder = DBT_PROJECT_DIR / "models" / "attribution"
    return sorted({p.stem[5:] for p in folder.glob("attr_*") if p.suffix in {".sql", ".py"}})


def environ() -> dict[str, str]:
    """The settings overrides both engines build with."""
    return {
        "ATTRIBUTION_PII_SALT": SALT,
        "ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(attribution_models()) + "]",
        "ATTRIBUTION__TARGETS": TARGETS_YAML,
    }


def _settings(data_dir: Path, target: str):
    from pipelines.config import load_settings

    env = {**os.environ, **environ(), "ATTRIBUTION__WAREHOUSE__TARGET": target}
    return load_settings(data_dir=data_dir, environ=env)


def published_marts(settings) -> list[str]:
    """Names of the models tagged ``published`` (from the manifest of the last dbt call)."""
    from pipelines.warehouse import manifest_path

    manifest = json.loads(manifest_path(settings).read_text(encoding="utf-8"))
    return sorted(
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "published" in n.get("tags", [])
    )


def duckdb_side(data_dir: Path, out: Path, people: int, days: int) -> None:
    """Synth -> ingest -> DuckDB build -> every published mart as ``out/<mart>.parquet``."""
    import duckdb

    from pipelines import warehouse
    from pipelines.ingest import ingest
    from pipelines.synth import generate

    os.environ.update(environ())
    settings = _settings(data_dir, "duckdb")
    generate(data_dir, START, days=days, people=people)
    ingested = ingest(settings)
    if ingested.quarantined:
        raise SystemExit(f"parity: synthetic files were quarantined: {ingested.quarantined}")
    started = time.monotonic()
    warehouse.build(settings, quiet=True)
    elapsed = time.monotonic() - started
    out.mkdir(parents=True, exist_ok=True)
    marts = published_marts(settings)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        for mart in marts:
            con.execute(
                f"copy (select * from main.{mart}) to '{out / mart}.parquet' (format parquet)"
            )
    probe = probe_macros(settings)
    (out / "marts.json").write_text(
        json.dumps({"marts": marts, "build_seconds": elapsed, "probe": probe}, default=str)
    )


def spark_side(data_dir: Path, lake: Path) -> tuple[dict[str, pd.DataFrame], float]:
    """Build on Spark over a copy of ``lake``; every published mart as a DataFrame."""
    from pyspark.sql import SparkSession

    from pipelines import warehouse

    shutil.copytree(lake, data_dir / "lake")
    settings = _settings(data_dir, "spark")
    started = time.monotonic()
    warehouse.build(settings, quiet=True, unit_tests=True)
    elapsed = time.monotonic() - started
    spark = SparkSession.builder.getOrCreate()  # the session dbt-spark opened
    marts = {m: spark.table(f"main.{m}").toPandas() for m in published_marts(settings)}
    marts["_macro_probe"] = pd.DataFrame([probe_macros(settings)])
    return marts, elapsed


def _kind(column: str, series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_float_dtype(series):
        if MONEY.search(column) and not NOT_MONEY.search(column):
            return "money"
        return "number"
    return "text"


def _as_text(series: pd.Series) -> pd.Series:
    """Non-float values as comparable text: ints without '.0', dates and times in ISO."""

    def one(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
            return "<null>"
        if isinstance(v, pd.Timestamp | dt.datetime):
            return pd.Timestamp(v).isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return series.astype(object).map(one)


def compare(name: str, expected: pd.DataFrame, got: pd.DataFrame, limit: int = 5) -> list[str]:
    """Differences between the DuckDB (expected) and Spark (got) rows of one mart."""
    problems: list[str] = []
    # when each row was written differs between any two builds, on any engines
    expected = expected.drop(columns=list(BUILD_COLUMNS), errors="ignore")
    got = got.drop(columns=list(BUILD_COLUMNS), errors="ignore")
    cols_e, cols_g = set(expected.columns), set(got.columns)
    if cols_e != cols_g:
        problems.append(
            f"{name}: columns differ: only on DuckDB {sorted(cols_e - cols_g)}, "
            f"only on Spark {sorted(cols_g - cols_e)}"
        )
    columns = sorted(cols_e & cols_g)
    if len(expected) != len(got):
        problems.append(f"{name}: {len(expected)} rows on DuckDB, {len(got)} on Spark")
    kinds = {c: _kind(c, expected[c]) if len(expected) else "text" for c in columns}
    for c in columns:  # an all-null column reads as float on one side only
        if kinds[c] != "text" and not pd.api.types.is_numeric_dtype(got[c]):
            kinds[c] = "text"
    keys = [c for c in columns if kinds[c] == "text"]

    def normal(frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        for c in columns:
            if kinds[c] == "text":
                out[c] = _as_text(frame[c])
            else:
                out[c] = pd.to_numeric(frame[c]).astype("float64")
        order = keys + [c for c in columns if c not in keys]
        rounded = out.assign(**{c: out[c].round(6) for c in columns if c not in keys})
        return out.loc[rounded.sort_values(order, na_position="first").index].reset_index(drop=True)

    if problems and len(expected) != len(got):
        e, g = normal(expected), normal(got)
        if keys:
            only_e = e[keys].merge(g[keys], how="left", indicator=True)
            only_g = g[keys].merge(e[keys], how="left", indicator=True)
            for label, frame in (("only on DuckDB", only_e), ("only on Spark", only_g)):
                missing = frame[frame["_merge"] == "left_only"].drop(columns="_merge")
                for row in missing.head(limit).to_dict("records"):
                    problems.append(f"{name}: row {label}: {row}")
        return problems
    e, g = normal(expected), normal(got)
    bad_rows: set[int] = set()
    for c in columns:
        if kinds[c] == "text":
            diff = e[c] != g[c]
        else:
            a, b = e[c].to_numpy(), g[c].to_numpy()
            both_null = pd.isna(a) & pd.isna(b)
            tol = (
                MONEY_TOLERANCE
                if kinds[c] == "money"
                else NUMBER_TOLERANCE * pd.Series(abs(a)).clip(lower=1.0).to_numpy()
            )
            close = abs(a - b) <= tol
            diff = pd.Series(~(both_null | close))
        rows = diff[diff].index.tolist()
        if rows:
            bad_rows.update(rows)
            first = rows[0]
            problems.append(
                f"{name}.{c} ({kinds[c]}): {len(rows)} row(s) differ, e.g. DuckDB "
                f"{e.at[first, c]!r} vs Spark {g.at[first, c]!r} at "
                f"{ {k: e.at[first, k] for k in keys[:6]} }"
            )
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.5)
    raise SystemExit(f"parity: nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


@contextlib.contextmanager
def standalone_cluster(work: Path, workers: int = 2) -> Generator[str, None, None]:
    """A Spark standalone cluster (master + ``workers``) from the pyspark package."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = spark_home / "bin" / "spark-class"
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_HOST": "127.0.0.1",
        "SPARK_WORKER_DIR": str(work / "spark-worker"),
        "PYSPARK_PYTHON": sys.executable,
    }
    port, ui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    logs = work / "cluster-logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> None:
        log = (logs / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen([str(spark_class), *args], env=env, stdout=log, stderr=log)
        )

    try:
        start(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
             str(port), "--webui-port", str(ui)],
        )  # fmt: skip
        _wait_port(port)
        for i in range(workers):
            start(
                f"worker{i + 1}",
                ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                 "--memory", "1500m", "--webui-port", str(_free_port()), master_url],
            )  # fmt: skip
        time.sleep(5)
        yield master_url
    finally:
        for p in reversed(processes):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run(work: Path, people: int, days: int, cluster: bool) -> int:
    duck_dir, spark_dir, exported = work / "duckdb", work / "spark", work / "duckdb-marts"
    started = time.monotonic()
    subprocess.run(
        [str(MAIN_PYTHON), "-m", "pipelines.parity", "duckdb-side", "--data-dir", str(duck_dir),
         "--out", str(exported), "--people", str(people), "--days", str(days)],
        check=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    duck_info = json.loads((exported / "marts.json").read_text())
    print(f"parity: DuckDB side done in {time.monotonic() - started:.1f} s "
          f"(dbt build {duck_info['build_seconds']:.1f} s)", flush=True)  # fmt: skip
    with contextlib.ExitStack() as stack:
        if cluster:
            os.environ["SPARK_MASTER_URL"] = stack.enter_context(standalone_cluster(work))
            os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
            os.environ["PYSPARK_PYTHON"] = sys.executable
        spark_marts, spark_seconds = spark_side(spark_dir, duck_dir / "lake")
    print(f"parity: Spark build {spark_seconds:.1f} s "
          f"({os.environ.get('SPARK_MASTER_URL', 'local[2]')})", flush=True)  # fmt: skip
    problems: list[str] = []
    spark_probe = spark_marts.pop("_macro_probe").iloc[0].to_dict()
    for key, value in duck_info["probe"].items():
        got = spark_probe.get(key)
        if key in ("surrogate_key", "lake_hook_sql", "incremental_strategy"):
            continue  # engine-specific by design (hash text, hook, strategy)
        same = (value is None and (got is None or got != got)) or str(got) == str(value)
        if not same and isinstance(value, float):
            same = abs(float(got) - value) <= NUMBER_TOLERANCE
        if not same:
            problems.append(f"macro probe {key}: DuckDB {value!r} vs Spark {got!r}")
    if duck_info["probe"]["surrogate_key"] != spark_probe["surrogate_key"]:
        problems.append("macro probe surrogate_key: the md5 hashes differ between engines")
    marts = duck_info["marts"]
    missing = sorted(set(marts) - set(spark_marts))
    if missing:
        problems.append(f"published marts missing on Spark: {missing}")
    for mart in marts:
        if mart not in spark_marts:
            continue
        expected = pd.read_parquet(exported / f"{mart}.parquet")
        found = compare(mart, expected, spark_marts[mart])
        print(f"  {mart}: {len(expected)} rows {'OK' if not found else 'DIFFERENT'}", flush=True)
        problems += found
    if problems:
        print("parity: DuckDB and Spark differ:", *problems, sep="\n  ", flush=True)
        return 1
    print(f"parity: {len(marts)} published marts equal on DuckDB and Spark "
          f"({time.monotonic() - started:.1f} s in all)", flush=True)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.parity", description=__doc__)
    parser.add_argument("side", nargs="?", choices=["both", "duckdb-side"], default="both")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--cluster", action="store_true", help="on a standalone Spark cluster")
    args = parser.parse_args(argv)
    if args.side == "duckdb-side":
        duckdb_side(args.data_dir, args.out, args.people, args.days)
        return 0
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        return run(args.work.resolve(), args.people, args.days, args.cluster)
    with tempfile.TemporaryDirectory(prefix="attribution-parity-") as tmp:
        return run(Path(tmp), args.people, args.days, args.cluster)


if __name__ == "__main__":
    sys.exit(main())
