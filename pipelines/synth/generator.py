"""``generate``: simulate, render every source's landing files, and return the truth."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.sources import ParseContext, get_source, source_names
from pipelines.synth.affiliates import build_installs, build_transactions
from pipelines.synth.delivery import AD_COLUMNS, build_delivery, restate
from pipelines.synth.events import event_index, landing_tags, lookups, render_day
from pipelines.synth.fx import make_rates
from pipelines.synth.journeys import simulate
from pipelines.synth.truth import Truth, build_truth

# Sources this generator has data for, in writing order.
SYNTH_SOURCES = (
    "fx_rates",
    "google_ads",
    "microsoft_ads",
    "meta_ads",
    "tiktok_ads",
    "linkedin_ads",
    "taboola",
    "affiliate",
    "appsflyer",
    "events",
)
# Export form per account (the writer's ``fmt``); accounts not listed use the default.
ACCOUNT_FORMATS = {
    ("google_ads", "2345678901"): "ui",  # UI download: BOM, preamble, totals row
    ("meta_ads", "10150007654321"): "ui",  # Ads Manager CSV, currency in the header
}
RESTATED = ("google_ads", "1234567890")  # this account re-delivers one day, later
PILOT_PEOPLE = 2000  # size of the pilot run that calibrates ``events=N``
EVENTS_GZIP_ABOVE = 1_000_000  # larger runs write gzipped JSON lines


@dataclass
class SynthResult:
    """What ``generate`` wrote: ``files`` (landing paths), ``truth`` and the sources
    skipped because their writer does not exist yet."""

    out_dir: Path
    files: list[Path]
    truth: Truth
    skipped: list[str] = field(default_factory=list)

    @property
    def landing(self) -> Path:
        return self.out_dir / "landing"


def _mtime(path: Path, when: dt.datetime) -> None:
    ts = when.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))


def generate(
    out_dir: Path,
    start: dt.date,
    days: int = 60,
    seed: int = 7,
    people: int = 3000,
    sources: list[str] | None = None,
    reporting_currency: str = "USD",
    *,
    events: int | None = None,
) -> SynthResult:
    """Simulate ``people`` people over ``days`` days from ``start`` and write landing files.

    Deterministic: the same arguments give byte-identical files (and modification times).
    ``events`` (a target number of first-party events, e.g. 1_000_000) overrides
    ``people`` for benchmarks. ``sources`` limits what is written (default: every source
    of the registry this generator has data for). Files go to
    ``out_dir/landing/<source>/<YYYY-MM-DD>/``.
    """
    if days < 1:
        raise ValueError("synth: days must be at least 1")
    if events is not None:
        people = people_for_events(events, start, days, seed)
    if people < 1:
        raise ValueError("synth: people must be at least 1")
    unknown = sorted(set(sources or []) - set(SYNTH_SOURCES))
    if unknown:
        raise ValueError(
            f"synth: no synthetic data for {unknown}; choose from {list(SYNTH_SOURCES)}"
        )
    available = set(source_names())
    wanted = [s for s in SYNTH_SOURCES if sources is None or s in sources]
    skipped = [s for s in wanted if s not in available]
    wanted = [s for s in wanted if s in available]
    reporting_currency = reporting_currency.upper()
    out_dir = Path(out_dir)
    landing = out_dir / "landing"

    sim = simulate(start, days, seed, people)
    rates = make_rates(np.random.default_rng([seed, 10]), start, days, reporting_currency)
    delivery = build_delivery(sim, rates, seed)
    restate_day = start + dt.timedelta(days=min(days - 1, max(1, days // 3)))
    key = (
        (delivery["platform"] == RESTATED[0])
        & (delivery["account_id"] == RESTATED[1])
        & (delivery["spend_date"] == restate_day)
    )
    restated = restate(delivery[key], seed)
    final = pd.concat([delivery[~key], restated]).sort_index(kind="stable")
    transactions, quirks = build_transactions(sim, rates, seed)
    installs = build_installs(sim)

    files: list[Path] = []
    day_list = [start + dt.timedelta(days=i) for i in range(days)]

    def ctx(day: dt.date, source: str) -> ParseContext:
        return ParseContext(
            folder_date=day,
            reporting_currency=reporting_currency,
            allow_unsalted_pii=True,
            options={},
        )

    def delivered(day: dt.date, order: int) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6, 0)) + dt.timedelta(
            minutes=order
        )

    for order, name in enumerate(wanted):
        src = get_source(name)
        if name == "fx_rates":
            for day in day_list:
                d = landing / name / day.isoformat()
                if day in rates.ecb:
                    written = src.write(rates.ecb[day], d, ctx(day, name), fmt="ecb")
                else:
                    written = src.write(rates.simple[day], d, ctx(day, name), fmt="simple")
                for p in written:
                    _mtime(p, dt.datetime.combine(day, dt.time(15, 0)))
                files.extend(written)
        elif name in (
            "google_ads",
            "microsoft_ads",
            "meta_ads",
            "tiktok_ads",
            "linkedin_ads",
            "taboola",
        ):
            rows = delivery[delivery["platform"] == name]
            for day, day_rows in rows.groupby("spend_date", sort=True):
                d = landing / name / day.isoformat()
                for acct, acct_rows in day_rows.groupby("account_id", sort=True):
                    fmt = ACCOUNT_FORMATS.get((name, str(acct)))
                    written = src.write(
                        acct_rows[list(AD_COLUMNS)].reset_index(drop=True),
                        d,
                        ctx(day, name),
                        fmt=fmt,
                    )
                    for p in written:
                        _mtime(p, delivered(day, order))
                    files.extend(written)
                if name == RESTATED[0] and day == restate_day and key.any():
                    files.extend(
                        _write_restated(
                            src,
                            restated,
                            d,
                            ctx(day, name),
                            delivered(day + dt.timedelta(days=3), order),
                        )
                    )
                    quirks["restated_day"] = day
                    quirks["restated_file"] = files[-1]
        elif name == "affiliate":
            if not transactions.empty:
                for day, rows in transactions.groupby("deliver_day", sort=True):
                    d = landing / name / day.isoformat()
                    written = src.write(
                        rows.drop(columns=["deliver_day"]).reset_index(drop=True), d, ctx(day, name)
                    )
                    for p in written:
                        _mtime(p, delivered(day, order))
                    files.extend(written)
        elif name == "appsflyer":
            for day, rows in installs.groupby("deliver_day", sort=True):
                d = landing / name / day.isoformat()
                written = src.write(
                    rows.drop(columns=["deliver_day"]).reset_index(drop=True), d, ctx(day, name)
                )
                for p in written:
                    _mtime(p, delivered(day, order))
                files.extend(written)
        elif name == "events":
            look = lookups(sim, landing_tags(sim))
            ev = event_index(sim)
            bounds = np.searchsorted(ev["day"].to_numpy(), np.arange(days + 1))
            fmt = "jsonl.gz" if len(ev) > EVENTS_GZIP_ABOVE else None
            dup_count = 0
            for i, day in enumerate(day_list):
                frame = render_day(look, ev.iloc[bounds[i] : bounds[i + 1]], seed, i)
                dup_count += int(frame["event_id"].duplicated().sum())
                d = landing / name / day.isoformat()
                written = src.write(frame, d, ctx(day, name), fmt=fmt)
                for p in written:
                    _mtime(p, delivered(day, order))
                files.extend(written)
            quirks["duplicated_message_ids"] = dup_count
            quirks["events"] = len(ev)
    quirks["refunded_orders"] = sim.refunds["order_id"].tolist()
    truth = build_truth(sim, rates, final, reporting_currency, quirks)
    return SynthResult(out_dir=out_dir, files=files, truth=truth, skipped=skipped)


def people_for_events(events: int, start: dt.date, days: int, seed: int) -> int:
    """How many people make about ``events`` first-party events over these days (a pilot run)."""
    pilot = simulate(start, days, seed, PILOT_PEOPLE)
    per_person = max(len(event_index(pilot)), 1) / PILOT_PEOPLE
    return max(20, round(events / per_person))


def _write_restated(
    src, rows: pd.DataFrame, folder: Path, ctx: ParseContext, when: dt.datetime
) -> list[Path]:
    """Write the re-delivery beside the first file, named ``<stem>_restated<suffix>``."""
    out = []
    with tempfile.TemporaryDirectory(prefix=".synth-") as tmp:
        for p in src.write(rows[list(AD_COLUMNS)].reset_index(drop=True), Path(tmp), ctx):
            suffix = "".join(p.suffixes)
            target = folder / f"{p.name[: -len(suffix)] if suffix else p.name}_restated{suffix}"
            shutil.move(str(p), target)
            _mtime(target, when)
            out.append(target)
    return out


def synth_command(
    out_dir: Path,
    start: dt.date,
    days: int = 60,
    seed: int = 7,
    people: int = 3000,
    sources: list[str] | None = None,
    reporting_currency: str = "USD",
    events: int | None = None,
) -> SynthResult:
    """The CLI's ``attribution synth``: the same as ``generate`` (one implementation)."""
    return generate(
        out_dir,
        start,
        days,
        seed=seed,
        people=people,
        sources=sources,
        reporting_currency=reporting_currency,
        events=events,
    )
