"""The ``attribution`` command line: thin commands over the pipeline's steps.

Every command loads the one settings object, calls a step function (the same ones the
Airflow DAGs and the tests call) and turns its outcome into an exit code:
0 done, 1 failed, 2 bad usage or a bad input file (quarantined), 3 the quality gate
blocked publication. Heavy libraries are imported inside the commands, so ``--help``
is instant.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.config import ConfigError, Settings, load_settings
from pipelines.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_GATE_BLOCKED, PipelineError

app = typer.Typer(
    name="attribution",
    help="Marketing attribution: ad-platform exports + first-party events -> KPI marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

DEMO_START = dt.date(2026, 9, 1)
DEMO_DAYS = 61
DEMO_SALT = "demo-salt-not-secret"  # only for the demo's synthetic people


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _parse_date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD.", param_hint=flag
        ) from None


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="ATTRIBUTION_DATA_DIR", help="Data dir (default ./data)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", envvar="ATTRIBUTION_CONFIG", help="Settings file (default attribution.yml)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Global options shared by every command."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(config_file=config, data_dir=data_dir)
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    ctx.obj = {"settings": settings}


def _guard(fn):
    """Turn pipeline errors into one clear line and the documented exit code."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except PipelineError as exc:
            raise _fail(str(exc), exc.exit_code) from None
        except (ConfigError, ValueError, KeyError, FileNotFoundError) as exc:
            raise _fail(str(exc).strip("'\""), EXIT_BAD_INPUT) from None

    return wrapper


def _progress():
    from pipelines.progress import terminal_progress

    return terminal_progress()


def _showing(progress):
    """The progress display as a context manager (a live bar is one; a plain printer not)."""
    from contextlib import nullcontext

    return progress if hasattr(progress, "__enter__") else nullcontext()


def _report_run(result) -> None:
    """Print what a run did: quarantined files, the gate's verdict, the publication."""
    from pipelines.quality.gate import format_gate_summary

    ing = result.ingest
    if ing is not None:
        console.print(
            f"ingested {len(ing.loaded)} file(s), {len(ing.unchanged)} unchanged, "
            f"{len(ing.quarantined)} quarantined"
        )
        for q in ing.quarantined:
            err.print(f"[yellow]quarantined:[/] {q.message}", highlight=False)
        for problem in ing.problems:
            err.print(f"[yellow]problem:[/] {problem}", highlight=False)
    if result.gate is not None:
        console.print(format_gate_summary(result.gate), highlight=False)
    if result.publication is not None:
        console.print(f"[green]published[/] {result.publication}", highlight=False)
    elif result.exit_code == EXIT_GATE_BLOCKED:
        err.print(
            "[red]publication blocked by the quality gate; the last publication is untouched.[/]"
        )


def _run_with_progress(
    settings: Settings, start: dt.date, end: dt.date, full_refresh: bool = False
):
    from pipelines.run import run

    progress = _progress()
    with _showing(progress):
        return run(settings, start, end, progress=progress, full_refresh=full_refresh)


@app.command()
@_guard
def demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="Days of synthetic data.")] = DEMO_DAYS,
    people: Annotated[int, typer.Option(help="Synthetic people.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    fresh: Annotated[
        bool, typer.Option(help="Delete the data dir's landing/lake/published first.")
    ] = True,
) -> None:
    """Generate synthetic data, run the whole pipeline on DuckDB, publish, and show the KPIs."""
    import shutil

    from pipelines.synth import generate

    settings = _settings(ctx)
    os.environ.setdefault(settings.privacy.salt_env, DEMO_SALT)
    paths = settings.paths
    if fresh and paths.data_dir.exists():
        for sub in ("landing", "lake", "quarantine", "published", "state", "dbt", "reports"):
            shutil.rmtree(paths.data_dir / sub, ignore_errors=True)
        paths.warehouse.unlink(missing_ok=True)
    end = DEMO_START + dt.timedelta(days=days - 1)
    console.print(f"[bold]1/3[/] generating {days} days of synthetic data for {people} people ...")
    synth = generate(paths.data_dir, start=DEMO_START, days=days, seed=seed, people=people)
    console.print(f"    wrote {len(synth.files)} files under {paths.landing}")
    console.print("[bold]2/3[/] ingest -> build -> gate -> publish ...")
    result = _run_with_progress(settings, DEMO_START, end)
    _report_run(result)
    console.print("[bold]3/3[/] KPIs per channel and model (published marts):")
    _print_kpis(settings)
    report_path = _write_report(settings)
    _print_where(settings, report_path)
    raise typer.Exit(result.exit_code)


def _print_kpis(settings: Settings) -> None:
    import duckdb

    db = settings.paths.published_db
    if not db.exists():
        err.print("[red]no publication yet.[/]")
        return
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """
            select model, channel,
                   sum(spend) as spend,
                   sum(attributed_conversions) as conversions,
                   sum(attributed_value) as value
            from mart_kpi_daily
            where date_basis = 'conversion'
            group by all
            order by model, spend desc, conversions desc
            """
        ).fetchall()
    cur = settings.reporting.currency
    by_model: dict[str, list[tuple]] = {}
    for r in rows:
        by_model.setdefault(r[0], []).append(r[1:])
    for model, items in by_model.items():
        table = Table(title=f"model: {model}", title_justify="left")
        for col in ("channel", f"spend ({cur})", "conversions", "CPA", "ROAS"):
            table.add_column(col, justify="left" if col == "channel" else "right")
        for channel, spend, conv, value in items:
            spend, conv, value = float(spend or 0), float(conv or 0), float(value or 0)
            cpa = f"{spend / conv:,.2f}" if conv and spend else "-"
            roas = f"{value / spend:,.2f}" if spend else "-"
            table.add_row(str(channel), f"{spend:,.2f}", f"{conv:,.1f}", cpa, roas)
        console.print(table)


def _write_report(settings: Settings) -> Path | None:
    try:
        from pipelines.report import write_report
    except ImportError:
        return None
    return write_report(settings)


def _print_where(settings: Settings, report: Path | None) -> None:
    p = settings.paths
    console.print("\n[bold]Where everything is[/]")
    console.print(f"  published marts  {p.published_db}  (Parquet: {p.published_parquet})")
    if report:
        console.print(f"  HTML report      {report}")
    console.print(f"  data docs        {p.reports / 'data-docs'}")
    console.print(f"  logs             {p.logs}")
    console.print(f"  quarantine       {p.quarantine}")
    console.print("\n[bold]Query the marts[/]")
    console.print(f'  duckdb -readonly {p.published_db} "select * from mart_kpi_daily limit 10"')
    console.print(
        "  python -c \"import duckdb; print(duckdb.connect('"
        f"{p.published_db}', read_only=True).sql('select * from mart_model_comparison'))\""
    )


@app.command()
@_guard
def run(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option("--date", help="One day, YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day of a range.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day of a range.")] = None,
    full_refresh: Annotated[
        bool,
        typer.Option(help="Rebuild every table from scratch; the gate reads every lake partition."),
    ] = False,
) -> None:
    """Ingest what landed for the dates, build, gate and publish."""
    d, s, e = _parse_date(date, "--date"), _parse_date(start, "--start"), _parse_date(end, "--end")
    if d and (s or e):
        raise _fail("give either --date or --start/--end, not both.", EXIT_BAD_INPUT)
    if not d and not s:
        raise _fail(
            "give --date YYYY-MM-DD or --start YYYY-MM-DD [--end YYYY-MM-DD].", EXIT_BAD_INPUT
        )
    first = d or s
    last = d or e or s
    result = _run_with_progress(_settings(ctx), first, last, full_refresh=full_refresh)
    _report_run(result)
    raise typer.Exit(result.exit_code)


@app.command()
@_guard
def ingest(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option("--date", help="Only this landing day.")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
) -> None:
    """Ingest landed files into the lake (idempotent; bad files are quarantined)."""
    from pipelines.ingest import ingest as ingest_step

    d = _parse_date(date, "--date")
    progress = _progress()
    settings = _settings(ctx)
    with _showing(progress):
        res = ingest_step(settings, dates=[d] if d else None, sources=source, progress=progress)
    console.print(
        f"ingested {len(res.loaded)} file(s), {len(res.unchanged)} unchanged, "
        f"{len(res.quarantined)} quarantined"
    )
    for q in res.quarantined:
        err.print(f"[yellow]quarantined:[/] {q.message}", highlight=False)
    for problem in res.problems:
        err.print(f"[yellow]problem:[/] {problem}", highlight=False)
    raise typer.Exit(res.exit_code)


@app.command()
@_guard
def build(
    ctx: typer.Context,
    full_refresh: Annotated[bool, typer.Option(help="Rebuild every table from scratch.")] = False,
    select: Annotated[str | None, typer.Option(help="dbt selection, e.g. +mart_kpi_daily.")] = None,
    unit_tests: Annotated[
        bool | None,
        typer.Option(
            "--unit-tests/--no-unit-tests",
            help="Run dbt's unit tests too (default: warehouse.unit_tests, off).",
        ),
    ] = None,
) -> None:
    """Build the warehouse with dbt (models and data tests; unit tests on request)."""
    from pipelines import warehouse

    progress = _progress()
    settings = _settings(ctx)
    with _showing(progress):
        res = warehouse.build(
            settings,
            full_refresh=full_refresh,
            select=select,
            progress=progress,
            unit_tests=unit_tests,
        )
    console.print(f"build {res.build_id}: {len(res.nodes)} nodes ok")


@app.command()
@_guard
def validate(
    ctx: typer.Context,
    run_date: Annotated[
        str | None, typer.Option("--run-date", help="Date freshness is judged against.")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Validate every lake partition, not only those changed since a passed gate.",
        ),
    ] = False,
) -> None:
    """Run the quality gate against the warehouse (exit 3 if it fails)."""
    from pipelines.quality.gate import format_gate_summary, run_gate

    res = run_gate(_settings(ctx), run_date=_parse_date(run_date, "--run-date"), full=full)
    console.print(format_gate_summary(res), highlight=False)
    raise typer.Exit(0 if res.passed else EXIT_GATE_BLOCKED)


@app.command()
@_guard
def publish(
    ctx: typer.Context,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Restore an earlier publication.")
    ] = False,
    version: Annotated[
        str | None, typer.Argument(help="Version to roll back to (default: the previous).")
    ] = None,
    list_versions: Annotated[bool, typer.Option("--list", help="List kept publications.")] = False,
) -> None:
    """Publish the gated build atomically, or roll back to an earlier publication."""
    from pipelines import publish as pub

    settings = _settings(ctx)
    if list_versions:
        for v in pub.list_versions(settings):
            console.print(str(v))
        return
    if version and not rollback:
        raise _fail("a VERSION is only taken with --rollback.", EXIT_BAD_INPUT)
    res = pub.rollback(settings, version) if rollback else pub.publish(settings)
    console.print(f"[green]{'rolled back' if rollback else 'published'}[/] {res}", highlight=False)


@app.command()
@_guard
def status(ctx: typer.Context) -> None:
    """What is landed, ingested, built and published; the last gate result."""
    from pipelines.status import format_status
    from pipelines.status import status as status_step

    console.print(format_status(status_step(_settings(ctx))), highlight=False)


@app.command("attribute-paths")
@_guard
def attribute_paths(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Path file: path;total_conversions;total_conversion_value;total_null"),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the per-channel CSV here.")
    ] = None,
) -> None:
    """Attribute a path file with every model; print (or write) the per-channel table."""
    from pipelines.attribution.pathfile import attribute_paths_command

    if not file.exists():
        raise _fail(f"{file}: no such file; give the path of a path-data file.", EXIT_BAD_INPUT)
    a = _settings(ctx).attribution
    df = attribute_paths_command(file, out, transform=a.path_transform, order=a.markov_order)
    if out:
        console.print(f"wrote {len(df)} rows to {out}")
        return
    table = Table()
    for col in df.columns:
        table.add_column(col, justify="left" if col in ("channel", "model") else "right")
    for row in df.itertuples(index=False):
        table.add_row(*[f"{v:,.4f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


@app.command()
@_guard
def synth(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Data dir to write landing/ into (default: the data dir)."),
    ] = None,
    start: Annotated[str, typer.Option(help="First day.")] = DEMO_START.isoformat(),
    days: Annotated[int, typer.Option(help="Number of days.")] = DEMO_DAYS,
    people: Annotated[int, typer.Option(help="Synthetic people.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only these sources.")
    ] = None,
) -> None:
    """Write realistic synthetic landing data (every source in its real format)."""
    from pipelines.synth import generate

    target = out or _settings(ctx).paths.data_dir
    res = generate(
        target,
        start=_parse_date(start, "--start"),
        days=days,
        seed=seed,
        people=people,
        sources=source,
    )
    console.print(f"wrote {len(res.files)} files under {Path(target) / 'landing'}")


@app.command("new-source")
@_guard
def new_source(
    name: Annotated[str, typer.Argument(help="snake_case name of the new source.")],
) -> None:
    """Scaffold a new source folder (parser, writer, samples, README) that tests pick up."""
    from pipelines.scaffold import new_source as scaffold

    folder = scaffold(name)
    console.print(f"created {folder}; edit source.py and samples/, then run `make test`.")


@app.command()
@_guard
def report(ctx: typer.Context) -> None:
    """Write the HTML KPI report from the published marts."""
    path = _write_report(_settings(ctx))
    if path is None:
        raise _fail("the report module is not available.", EXIT_FAILED)
    console.print(f"wrote {path}")


@app.command()
@_guard
def bench(
    ctx: typer.Context,
    events: Annotated[
        list[int] | None, typer.Option("--events", help="Events per size (repeatable).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days of history per size.")] = 60,
    out: Annotated[Path | None, typer.Option("--out", help="JSON results file.")] = None,
) -> None:
    """Benchmark the pipeline against the floor, pandas and a peer (writes JSON)."""
    from pipelines.bench import format_bench_table, run_bench
    from pipelines.progress import PlainProgress

    settings = _settings(ctx)
    os.environ.setdefault(settings.privacy.salt_env, DEMO_SALT)
    results = run_bench(
        settings, events or [1_000_000], days=days, out=out, progress=PlainProgress()
    )
    console.print(format_bench_table(results), highlight=False)
    target = out or settings.paths.reports / "bench.json"
    console.print(f"results in {target}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
