"""``run_bench``: the pipeline against the floor and the alternatives, per data size.

For each size (a number of first-party events over ``days`` days), in one data dir
``<data_dir>/bench/events-<N>/``:

1. Generate synthetic landing data for ``days + 1`` days with ``pipelines.synth.generate``
   (its ``events`` option scales the people to the target) in a child process, so the
   simulation's memory (8 GB at 10M events) is returned before anything is measured; land
   the first ``days`` days, keep the last one aside for the incremental step.
2. Run the pipeline's steps, each timed, through the same functions the CLI calls:
   ``ingest``, ``warehouse.build``, ``quality.gate.run_gate``, ``publish.publish``; the
   peak resident memory of the process and its children is sampled meanwhile, and the
   slowest dbt models of each build are recorded (``build_slowest_models``).
3. The floor (``floor.py``): DuckDB reading the landed event files once and grouping
   them by person; ``ratio_to_floor`` = total / floor, ``build_ratio_to_floor`` = build /
   floor.
4. The hand-written alternative (``pandas_alternative.py``): last touch and linear in
   pandas from the lake; ``pandas_seconds``, and whether its channel totals equal the
   published ``fct_attributed_conversions``.
5. Our exact Markov and Shapley on the warehouse's journeys (``int_journeys``); Markov on
   a resample of a million journeys, Shapley on journeys over 100,000 distinct paths
   (``distinct_path_journeys``); the peer (``peer.py``) when available.
6. The incremental step: land the kept day, ``ingest`` it and ``build`` incrementally
   in a child process, as a nightly run is a process of its own (timed there:
   ``incremental_seconds``, with its own peak memory), gate and publish it (timed too:
   ``incremental_stage_seconds``; ``incremental_run_seconds`` and
   ``incremental_run_ratio`` are the whole night against the first run's four stages).
7. The upkeep the night calls for (``compaction_upkeep``): the share of each table's
   rows it deleted, the time to rewrite those tables without them, and the share of that
   a night is due (``compaction_seconds_per_night``, included in
   ``incremental_with_compaction_ratio``). Then (``verify_incremental``) rebuild
   everything with ``--full-refresh`` and compare the marts.

Results go to ``<data_dir>/reports/bench.json`` (rewritten after each size) and are
returned as a list of dicts; ``format_bench_table`` prints them. Timings come from a
single run on whatever machine runs it: ``machine`` records cores, memory, load and
versions so figures can be read in context. The benchmark is a command, never a test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.config import Settings, load_settings
from pipelines.errors import PipelineError

BENCH_START = dt.date(2026, 1, 5)
BENCH_SEED = 7
BENCH_SALT = "bench-salt-not-secret"  # synthetic people only
MILLION = 1_000_000
# the issue's Shapley target: distinct paths (the runs' own journeys have far fewer)
SHAPLEY_PATHS = 100_000
STAGES = ("ingest", "build", "gate", "publish")
# the pipeline's phases whose memory counts as its peak: the first load, and the nightly
PIPELINE_PHASES = (*STAGES, "incremental", "incremental_build")
VERSIONED = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "pandas",
    "numpy",
    "pyarrow",
    "great-expectations",
    "scipy",
)

Progress = Callable[..., Any]


# ----------------------------------------------------------------------------- memory
class RssSampler:
    """Samples the resident memory of this process plus its children in a thread.

    ``phase(name)`` records the peak seen while the block runs. Uses psutil when present
    (it is, through Airflow); otherwise only ``ru_maxrss`` figures are available.
    """

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self._current = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:  # pragma: no cover - psutil ships with Airflow
            self._proc = None

    @property
    def available(self) -> bool:
        return self._proc is not None

    def _rss(self) -> float:
        total = 0
        try:
            total += self._proc.memory_info().rss
            for child in self._proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except Exception:  # a child may exit between listing and reading
                    continue
        except Exception:
            return 0.0
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self._current = max(self._current, self._rss())
            self._stop.wait(self.interval)

    @contextmanager
    def phase(self, name: str) -> Generator[None]:
        if not self.available:
            yield
            return
        release_freed_memory()
        self._current = self._rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()
            self.peaks[name] = round(max(self._current, self._rss()), 1)


def release_freed_memory() -> None:
    """Give memory freed by earlier phases back to the system before a phase is sampled.

    The phases share this process: the pandas alternative peaks at several GB, and the C
    allocator keeps much of what it frees, so a phase sampled after it would carry that
    memory as its own. glibc only (``malloc_trim``); elsewhere a garbage collection is
    all. (The nightly day runs in a process of its own: ``_nightly``.)
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def ru_maxrss_mb() -> dict[str, float]:
    """Lifetime peaks from ``getrusage`` (KiB on Linux): this process, and waited children."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return {
        "self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1),
        "children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale, 1),
    }


# ----------------------------------------------------------------------------- machine
def machine_info(settings: Settings) -> dict[str, Any]:
    """Cores, memory, load, versions and DuckDB settings of the machine running the bench."""
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "versions": versions,
        "duckdb_settings": settings.duckdb_config(),
    }


# ----------------------------------------------------------------------------- helpers
def _settings(settings_or_data_dir: Settings | str | Path) -> Settings:
    if isinstance(settings_or_data_dir, Settings):
        return settings_or_data_dir
    return load_settings(data_dir=settings_or_data_dir)


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress("info", message=message)


class _Clock:
    """Times named blocks (``perf_counter``) into a dict."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Generator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - started


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(float(x), digits)


def _move_days(staging: Path, landing: Path, keep: Callable[[dt.date], bool]) -> list[dt.date]:
    """Move ``staging/<source>/<day>/`` folders whose day passes ``keep`` into ``landing``."""
    moved: set[dt.date] = set()
    if not staging.exists():
        return []
    for source_dir in sorted(p for p in staging.iterdir() if p.is_dir()):
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            day = dt.date.fromisoformat(day_dir.name)
            if not keep(day):
                continue
            target = landing / source_dir.name / day_dir.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(day_dir), target)
            moved.add(day)
    return sorted(moved)


def _size_settings(base: Settings, data_dir: Path) -> Settings:
    return load_settings(config_file=base.config_file, data_dir=data_dir)


def read_journeys(settings: Settings) -> pd.DataFrame:
    """The warehouse's ``int_journeys`` view (in whichever schema dbt built it)."""
    import duckdb

    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        found = con.execute(
            "select table_schema from information_schema.tables where table_name = 'int_journeys' "
            "order by table_schema = 'main' desc limit 1"
        ).fetchall()
        if not found:
            raise FileNotFoundError(
                f"{settings.paths.warehouse} has no int_journeys view; run `attribution build`."
            )
        return con.execute(
            "select journey_id, touch_position, touchpoint_id, channel, is_conversion, "
            f'conversion_id, conversion_value from "{found[0][0]}".int_journeys'
        ).df()


def mart_fingerprint(settings: Settings, db: Path | None = None) -> dict[str, dict[str, float]]:
    """Per published mart: row count and the sum of every numeric column (rounded).

    Two builds with the same fingerprint hold the same marts up to the order of rows and
    floating-point summation order (sums are rounded to 6 significant decimals).
    """
    import duckdb

    from pipelines.quality.warehouse_tables import published_marts

    path = db or settings.paths.warehouse
    out: dict[str, dict[str, float]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in sorted(published_marts(settings, con)):
            if table == "publication_log":
                continue
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ? and table_schema = 'main' order by ordinal_position",
                [table],
            ).fetchall()
            numeric = [
                c
                for c, t in cols
                if any(k in t.upper() for k in ("INT", "DOUBLE", "DECIMAL", "FLOAT", "REAL"))
            ]
            exprs = ["count(*)"] + [f'sum("{c}")' for c in numeric]
            values = con.execute(f'select {", ".join(exprs)} from "{table}"').fetchall()[0]
            out[table] = {
                name: (float(f"{float(v):.6g}") if v is not None else None)
                for name, v in zip(["rows", *numeric], values, strict=True)
            }
    return out


def _fingerprint_diff(a: dict, b: dict) -> list[str]:
    diffs = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            diffs.append(f"{table}: only in {'full refresh' if table in b else 'incremental'}")
            continue
        for col in sorted(set(a[table]) | set(b[table])):
            x, y = a[table].get(col), b[table].get(col)
            if x is None and y is None:
                continue
            if x is None or y is None or not np.isclose(x, y, rtol=1e-5, atol=1e-6):
                diffs.append(f"{table}.{col}: incremental {x} vs full refresh {y}")
    return diffs


def slowest_models(build: Any, n: int = 5) -> dict[str, float]:
    """The ``n`` slowest models of a dbt build (name -> seconds), slowest first."""
    models = sorted(build.models, key=lambda m: -m.execution_time)[:n]
    return {m.name: round(m.execution_time, 3) for m in models}


def resample_journeys(journeys: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` journeys drawn with replacement from ``journeys`` (new ids), for timing at scale."""
    codes, _ = pd.factorize(journeys["journey_id"])
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = np.random.default_rng(seed).integers(0, len(counts), n)
    lengths = counts[pick]
    ends = np.cumsum(lengths)
    rows = np.repeat(starts[pick] - (ends - lengths), lengths) + np.arange(int(ends[-1]))
    out = journeys.iloc[order[rows]].reset_index(drop=True)
    new_id = np.repeat(np.arange(n), lengths)
    out["journey_id"] = new_id
    out["conversion_id"] = np.where(out["is_conversion"].fillna(False).to_numpy(bool), new_id, -1)
    return out


def distinct_path_journeys(
    n_paths: int, channels: int = 12, max_length: int = 8, seed: int = 0
) -> pd.DataFrame:
    """Journeys (``int_journeys``' columns) over ``n_paths`` distinct channel paths, for
    timing Shapley on many paths: each path is a random sequence of 1..``max_length`` of
    ``channels`` channels with no channel twice in a row (so the exposure transform keeps
    every path), taken by one converting journey, one non-converting journey, or both.
    Raises ``ValueError`` when that many distinct paths cannot be drawn.
    """
    rng = np.random.default_rng(seed)
    drawn: list[np.ndarray] = []
    seen: set[bytes] = set()
    for _ in range(50):
        lengths = rng.integers(1, max_length + 1, 2 * n_paths)
        steps = rng.integers(1, channels, int(lengths.sum()))  # never 0: no repeat
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        steps[starts] = rng.integers(0, channels, len(lengths))
        # each path's channels: the running sum of its steps, modulo the channels
        total = np.cumsum(steps)
        codes = (total - np.repeat(total[starts] - steps[starts], lengths)) % channels
        codes = codes.astype(np.int16)
        for path in np.split(codes, starts[1:]):
            key = path.tobytes()
            if key not in seen:
                seen.add(key)
                drawn.append(path)
                if len(drawn) == n_paths:
                    break
        if len(drawn) == n_paths:
            break
    else:
        raise ValueError(
            f"only {len(drawn):,} distinct paths of up to {max_length} of {channels} channels"
        )
    converting = rng.random(n_paths) < 0.5
    non_converting = ~converting | (rng.random(n_paths) < 0.5)
    path_of = np.concatenate([np.flatnonzero(converting), np.flatnonzero(non_converting)])
    is_conversion = np.concatenate(
        [np.ones(int(converting.sum()), bool), np.zeros(int(non_converting.sum()), bool)]
    )
    lengths = np.array([len(drawn[i]) for i in path_of])
    journey = np.repeat(np.arange(len(path_of)), lengths)
    position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    names = np.array([f"Channel {c + 1:02d}" for c in range(channels)], dtype=object)
    touch_converts = np.repeat(is_conversion, lengths)
    return pd.DataFrame(
        {
            "journey_id": journey,
            "touch_position": position + 1,
            "touchpoint_id": journey * max_length + position,
            "channel": names[np.concatenate([drawn[i] for i in path_of])],
            "is_conversion": touch_converts,
            "conversion_id": np.where(touch_converts, journey, -1),
            "conversion_value": np.where(touch_converts, 10.0, 0.0),
        }
    )


def _synthesize(out: Path, start: dt.date, days: int, seed: int, events: int) -> int:
    """``pipelines.synth.generate`` (run in a child process); the number of files written."""
    from pipelines.synth import generate

    return len(generate(out, start=start, days=days, seed=seed, events=events).files)


def _nightly(config_file: Path | None, data_dir: Path, dates: list[dt.date]) -> dict[str, Any]:
    """One nightly run in a process of its own, as it runs in production (a CLI call, an
    Airflow task): ingest ``dates``, then build incrementally. Returns each step's
    seconds, its peak memory (this process and its children), the files loaded and the
    slowest models. The bench's own process holds what its earlier phases left (dbt's
    parsed projects, the allocators' caches); that is no part of a nightly run."""
    from pipelines import warehouse
    from pipelines.ingest import ingest

    settings = load_settings(config_file=config_file, data_dir=data_dir)
    rss, clock = RssSampler(), _Clock()
    warehouse.start_dbt_import()  # as `run` does: dbt loads while the files ingest
    with rss.phase("incremental"), clock("incremental_ingest"):
        loaded = ingest(settings, dates=dates).loaded
    with rss.phase("incremental_build"), clock("incremental_build"):
        built = warehouse.build(settings, full_refresh=False)
    return {
        "seconds": dict(clock.seconds),
        "peaks": dict(rss.peaks),
        "files": len(loaded),
        "slowest": slowest_models(built),
    }


def compaction_upkeep(settings: Settings) -> dict[str, Any]:
    """The deleted rows a nightly build left in the warehouse, and what reclaiming them costs.

    Each table the night deleted rows from (and ``warehouse.compact`` would consider: at
    least ``warehouse.compact_min_rows`` rows) is rewritten now and timed. A nightly build
    rewrites a table once its deleted rows pass ``warehouse.compact_dead_share``: at this
    night's rate, once every share / night's share nights. So the upkeep per night is each
    rewrite's time times the night's share over the threshold (at most the whole rewrite).
    """
    import duckdb

    from pipelines import warehouse

    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        tables = warehouse.dead_rows(con)
    shares = {
        f"{schema}.{table}": deleted / (rows + deleted)
        for schema, table, rows, deleted in tables
        if deleted
    }
    threshold = settings.warehouse.compact_dead_share
    done = warehouse.compact(settings, dead_share=1e-12)
    per_night = sum(c.seconds * min(1.0, shares[c.table] / threshold) for c in done)
    return {
        "incremental_deleted_row_shares": {t: round(v, 4) for t, v in sorted(shares.items())},
        "compaction_seconds": _r(sum(c.seconds for c in done)),
        "compaction_seconds_per_night": _r(per_night),
    }


# ----------------------------------------------------------------------------- one size
def bench_size(
    base: Settings,
    events: int,
    days: int,
    progress: Progress | None = None,
    verify_incremental: bool = True,
    seed: int = BENCH_SEED,
    result: dict[str, Any] | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Benchmark one size; see the module docstring. Returns the result dict.

    The figures are filled into ``result`` (a new dict if None) phase by phase, and
    ``checkpoint()`` is called after each phase, so a failure late in a long run keeps
    what was measured before it.
    """
    from pipelines import publish as publish_step
    from pipelines import warehouse
    from pipelines.attribution.journeys import attribute_journeys, prepare_journeys
    from pipelines.bench.floor import floor
    from pipelines.bench.pandas_alternative import pandas_attribution, pipeline_totals
    from pipelines.bench.peer import compare_peer
    from pipelines.errors import GateBlockedError
    from pipelines.ingest import ingest
    from pipelines.quality.gate import run_gate

    if events < 1 or days < 1:
        raise ValueError(f"bench: events ({events}) and days ({days}) must be at least 1")
    root = base.paths.data_dir / "bench" / f"events-{events}"
    if root.exists():
        shutil.rmtree(root)
    staging = root / "_staging"
    settings = _size_settings(base, root)
    os.environ.setdefault(settings.privacy.salt_env, BENCH_SALT)
    a = settings.attribution
    start, end = BENCH_START, BENCH_START + dt.timedelta(days=days - 1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    clock, rss = _Clock(), RssSampler()
    notes: list[str] = []
    result = {} if result is None else result
    result.update({"events_target": events, "days": days, "data_dir": str(root)})
    save = checkpoint or (lambda: None)

    # 1. data: days + 1 days, the last one kept aside for the incremental step
    _say(progress, f"[bench {events:,}] generating {days + 1} days of synthetic data ...")
    with clock("synth"), ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        synth_files = child.submit(
            _synthesize, staging, start, days + 1, seed, round(events * (days + 1) / days)
        ).result()
    _move_days(staging / "landing", settings.paths.landing, lambda d: d <= end)
    result["synth_seconds"] = _r(clock.seconds["synth"])
    result["synth_files"] = synth_files

    # 2. the pipeline, stage by stage
    run_id = f"bench-{events}-{uuid.uuid4().hex[:6]}"
    _say(progress, f"[bench {events:,}] ingest ...")
    warehouse.start_dbt_import()  # as `run` does
    with rss.phase("ingest"), clock("ingest"):
        ing = ingest(settings, progress=progress)
    if ing.quarantined or ing.problems:
        notes.append(f"ingest: {len(ing.quarantined)} quarantined, {len(ing.problems)} problem(s)")
    _say(progress, f"[bench {events:,}] build ...")
    with rss.phase("build"), clock("build"):
        built = warehouse.build(settings, full_refresh=True, progress=progress)
    result["build_slowest_models"] = slowest_models(built)
    _say(progress, f"[bench {events:,}] gate ...")
    with rss.phase("gate"), clock("gate"):
        gate = run_gate(settings, run_id=run_id, run_date=end, data_dates=dates)
    _say(progress, f"[bench {events:,}] publish ...")
    published = True
    with rss.phase("publish"), clock("publish"):
        try:
            publish_step.publish(settings, run_id=run_id)
        except GateBlockedError as exc:
            published = False
            notes.append(f"publish blocked: {exc}")
    stage = {s: _r(clock.seconds[s]) for s in STAGES}
    total = sum(clock.seconds[s] for s in STAGES)
    result.update(
        {
            "stage_seconds": stage,
            "total_seconds": _r(total),
            "gate_passed": bool(gate.passed),
            "gate_failures": [f"{f.expectation} on {f.table}" for f in gate.failures][:10],
            "published": published,
        }
    )

    save()

    # 3. the floor
    _say(progress, f"[bench {events:,}] floor ...")
    with rss.phase("floor"):
        fl = floor(settings)
    result.update(
        {
            "events": fl.events,
            "event_files": fl.files,
            "people_anonymous_ids": fl.people,
            "floor_seconds": _r(fl.seconds, 4),
            "ratio_to_floor": _r(total / fl.seconds, 2),
            "build_ratio_to_floor": _r(clock.seconds["build"] / fl.seconds, 2),
            "events_per_second": round(fl.events / total, 1) if total > 0 else None,
        }
    )

    save()

    # 4. the hand-written alternative
    _say(progress, f"[bench {events:,}] pandas alternative ...")
    with rss.phase("pandas"), clock("pandas"):
        alt = pandas_attribution(settings)
    db = settings.paths.published_db if published else settings.paths.warehouse
    ours = pipeline_totals(db)
    merged = alt.totals.merge(
        ours, on=["model", "channel"], how="outer", suffixes=("_pandas", "_pipeline")
    )
    merged = merged.fillna(0.0)
    diff_conv = float((merged["conversions_pandas"] - merged["conversions_pipeline"]).abs().max())
    diff_value = float((merged["value_pandas"] - merged["value_pipeline"]).abs().max())
    result.update(
        {
            "pandas_seconds": _r(clock.seconds["pandas"]),
            "pandas_ratio": _r(clock.seconds["pandas"] / total, 3) if total else None,
            "pandas_vs_build_ratio": _r(clock.seconds["pandas"] / clock.seconds["build"], 3),
            "pandas_conversions": alt.conversions,
            "pandas_matches_pipeline": bool(diff_conv < 1e-6 and diff_value < 1e-4),
            "pandas_max_abs_diff": {"conversions": diff_conv, "value": diff_value},
        }
    )

    save()

    # 5. exact Markov and Shapley on the journeys of this size; the peer
    _say(progress, f"[bench {events:,}] Markov and Shapley on the journeys ...")
    with clock("journeys_read"):
        journeys = read_journeys(settings)
    with rss.phase("markov"), clock("markov"):
        attribute_journeys(journeys, "markov", a.path_transform, a.markov_order)
    with clock("shapley"):
        attribute_journeys(journeys, "shapley", a.path_transform, a.markov_order)
    prep = prepare_journeys(journeys, a.path_transform)
    n_journeys = int(journeys["journey_id"].nunique())
    result.update(
        {
            "journeys": n_journeys,
            "journey_touch_rows": len(journeys),
            "distinct_paths": int(prep.pathset.n_paths),
            "markov_seconds": _r(clock.seconds["markov"]),
            "shapley_seconds": _r(clock.seconds["shapley"]),
        }
    )
    if 0 < n_journeys < MILLION:
        big = resample_journeys(journeys, MILLION, seed)
        with clock("markov_1m"):
            attribute_journeys(big, "markov", a.path_transform, a.markov_order)
        result["markov_1m_journeys_seconds"] = _r(clock.seconds["markov_1m"])
        del big
    else:
        result["markov_1m_journeys_seconds"] = result["markov_seconds"] if n_journeys else None
    many = distinct_path_journeys(SHAPLEY_PATHS, seed=seed)
    with clock("shapley_paths"):
        attribute_journeys(many, "shapley", a.path_transform, a.markov_order)
    result["shapley_many_paths_seconds"] = _r(clock.seconds["shapley_paths"])
    result["shapley_many_paths"] = int(prepare_journeys(many, a.path_transform).pathset.n_paths)
    del many
    peer, peer_note = compare_peer(prep.pathset, a.markov_order)
    result["peer"] = peer
    result["peer_note"] = peer_note
    del journeys, prep

    save()

    # 6. one more day, incrementally
    _say(progress, f"[bench {events:,}] incremental: one more day ...")
    extra = _move_days(staging / "landing", settings.paths.landing, lambda d: d > end)
    shutil.rmtree(staging, ignore_errors=True)
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        night = child.submit(_nightly, settings.config_file, root, extra).result()
    clock.seconds.update(night["seconds"])
    rss.peaks.update(night["peaks"])
    result["incremental_build_slowest_models"] = night["slowest"]
    inc_seconds = clock.seconds["incremental_ingest"] + clock.seconds["incremental_build"]
    run_id2 = f"{run_id}-inc"
    with clock("incremental_gate"):
        inc_gate = run_gate(
            settings, run_id=run_id2, run_date=extra[-1] if extra else end, data_dates=extra
        )
    with clock("incremental_publish"):
        try:
            publish_step.publish(settings, run_id=run_id2)
            inc_published = True
        except GateBlockedError as exc:
            inc_published = False
            notes.append(f"incremental publish blocked: {exc}")
    inc_run_seconds = (
        inc_seconds + clock.seconds["incremental_gate"] + clock.seconds["incremental_publish"]
    )
    full_first = clock.seconds["ingest"] + clock.seconds["build"]
    # 7. the deletes the night left, and the share of their compaction it is due
    upkeep = compaction_upkeep(settings)
    with_upkeep = inc_seconds + upkeep["compaction_seconds_per_night"]
    result.update(
        {
            **upkeep,
            "incremental_with_compaction_ratio": _r(with_upkeep / full_first, 3)
            if full_first
            else None,
            "incremental_days": [d.isoformat() for d in extra],
            "incremental_files": night["files"],
            "incremental_seconds": _r(inc_seconds),
            "incremental_stage_seconds": {
                "ingest": _r(clock.seconds["incremental_ingest"]),
                "build": _r(clock.seconds["incremental_build"]),
                "gate": _r(clock.seconds["incremental_gate"]),
                "publish": _r(clock.seconds["incremental_publish"]),
            },
            "incremental_ratio": _r(inc_seconds / full_first, 3) if full_first else None,
            # the whole nightly run (the four stages) against the first run's four stages
            "incremental_run_seconds": _r(inc_run_seconds),
            "incremental_run_ratio": _r(inc_run_seconds / total, 3) if total else None,
            "incremental_gate_passed": bool(inc_gate.passed),
            "incremental_published": inc_published,
        }
    )
    save()
    if verify_incremental:
        _say(progress, f"[bench {events:,}] full refresh to check the incremental marts ...")
        incremental_marts = mart_fingerprint(settings)
        with clock("full_rebuild"):
            warehouse.build(settings, full_refresh=True, progress=progress)
        full_marts = mart_fingerprint(settings)
        diffs = _fingerprint_diff(incremental_marts, full_marts)
        result.update(
            {
                "full_rebuild_seconds": _r(clock.seconds["full_rebuild"]),
                "incremental_build_ratio": _r(
                    clock.seconds["incremental_build"] / clock.seconds["full_rebuild"], 3
                ),
                "incremental_matches_full_refresh": not diffs,
                "incremental_differences": diffs[:20],
            }
        )

    result["peak_rss_mb"] = (
        max((rss.peaks.get(s) or 0.0) for s in PIPELINE_PHASES) if rss.available else None
    )
    result["peak_rss_mb_by_phase"] = dict(rss.peaks)
    result["ru_maxrss_mb"] = ru_maxrss_mb()
    result["notes"] = notes
    return result


# ----------------------------------------------------------------------------- all sizes
# Disk a size holds under the data dir at its end, per event: landing files, lake,
# warehouse and two publications took 0.96-1.05 KB at 10M events (9.6-10.5 GB; the
# warehouse 3.7 GB of it since its random ids are stored uncompressed). The estimate adds
# room for DuckDB's spill and a publication being written, and what any size holds
# (dbt's files, logs).
DISK_BYTES_PER_EVENT = 1300
DISK_BYTES_PER_SIZE = 200 * 2**20


def check_disk_space(base: Settings, sizes: list[int]) -> None:
    """Refuse a run the data dir's disk cannot hold, before any size starts: a full disk
    stops a long run part way (at 10M events, after a quarter of an hour). Each size keeps
    its data (``<data dir>/bench/events-N``); a size run again replaces its own."""
    need = sum(DISK_BYTES_PER_SIZE + n * DISK_BYTES_PER_EVENT for n in set(sizes))
    root = base.paths.data_dir
    probe = root
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    for n in set(sizes):
        free += sum(
            f.stat().st_size for f in (root / "bench" / f"events-{n}").rglob("*") if f.is_file()
        )
    if free < need:
        raise PipelineError(
            f"bench: {' + '.join(f'{n:,}' for n in sizes)} events need about "
            f"{need / 1e9:.1f} GB of disk under {root}, and {free / 1e9:.1f} GB is free "
            "(counting the data of earlier runs of these sizes, which a run replaces). "
            "Free some space, give --data-dir on a bigger disk, or bench fewer events."
        )


def run_bench(
    settings_or_data_dir: Settings | str | Path,
    events: list[int],
    days: int = 60,
    out: Path | None = None,
    progress: Progress | None = None,
    verify_incremental: bool = True,
) -> list[dict[str, Any]]:
    """Benchmark each size in ``events`` over ``days`` days; write JSON; return the results.

    ``out`` defaults to ``<data_dir>/reports/bench.json``; it is rewritten after each size,
    so a long run keeps what it finished. Each result carries the machine it ran on.
    """
    base = _settings(settings_or_data_dir)
    sizes = [int(n) for n in events]
    if not sizes:
        raise ValueError("bench: give at least one size (--events N)")
    check_disk_space(base, sizes)
    target = Path(out) if out is not None else base.paths.reports / "bench.json"
    machine = machine_info(base)
    command = "attribution bench " + " ".join(f"--events {n}" for n in sizes) + f" --days {days}"
    results: list[dict[str, Any]] = []
    for n in sizes:
        res: dict[str, Any] = {
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "complete": False,
        }
        results.append(res)
        try:
            bench_size(
                base,
                n,
                days,
                progress=progress,
                verify_incremental=verify_incremental,
                result=res,
                checkpoint=lambda: write_results(target, results),
            )
        except Exception as exc:
            res["error"] = f"{type(exc).__name__}: {exc}"
            raise
        else:
            res["complete"] = True
        finally:
            res["machine"] = machine
            res["command"] = command
            write_results(target, results)
        _say(progress, f"[bench {n:,}] done; results in {target}")
    return results


def write_results(path: Path, results: list[dict[str, Any]]) -> Path:
    """Write the results as JSON atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
