"""The synthetic generator: deterministic, consistent, and readable by every source."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pytest

from pipelines.attribution.pathfile import attribute_path_file
from pipelines.sources import ParseContext, get_source
from pipelines.synth import SYNTH_SOURCES, generate

START = dt.date(2026, 3, 5)  # Thursday: the week holds ECB weekdays and a weekend
DAYS = 7


def _ctx(day: dt.date) -> ParseContext:
    return ParseContext(folder_date=day, pii_salt="synth-test-salt")


def _landing_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    return generate(out, START, DAYS, seed=7, people=2500)


@pytest.fixture(scope="module")
def parsed(run) -> dict[str, pd.DataFrame]:
    """Every written file parsed by its source; ``_file`` and ``_mtime`` added."""
    frames: dict[str, list[pd.DataFrame]] = {}
    for path in run.files:
        source = path.parent.parent.name
        day = dt.date.fromisoformat(path.parent.name)
        df = get_source(source).parse(path, _ctx(day))
        df["_file"] = path.name
        df["_mtime"] = path.stat().st_mtime
        df["_folder_date"] = day
        frames.setdefault(source, []).append(df)
    return {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}


def _ad_delivery(parsed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Ad rows after restatement: per key, the row of the latest delivered file wins."""
    rows = pd.concat(
        [parsed[s] for s in parsed if get_source(s).table.name == "ad_delivery"], ignore_index=True
    )
    key = list(get_source("google_ads").table.key)
    rows = rows.sort_values("_mtime", kind="stable")
    return rows.drop_duplicates([*key[:-1], "ad_id"], keep="last").reset_index(drop=True)


def test_writes_every_registered_source_with_files_per_day(run):
    written = {p.parent.parent.name for p in run.files}
    assert written == set(SYNTH_SOURCES) - set(run.skipped)
    for p in run.files:
        assert p.is_file()
        assert p.parent.parent.parent == run.landing
    google_day = [
        p
        for p in run.files
        if p.parent.parent.name == "google_ads" and p.parent.name == "2026-03-06"
    ]
    assert len(google_day) >= 2  # one file per ad account


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    a = generate(tmp_path / "a", START, 3, seed=11, people=150)
    b = generate(tmp_path / "b", START, 3, seed=11, people=150)
    c = generate(tmp_path / "c", START, 3, seed=12, people=150)
    files_a, files_b = _landing_files(a.landing), _landing_files(b.landing)
    assert files_a == files_b
    assert [p.stat().st_mtime for p in a.files] == [p.stat().st_mtime for p in b.files]
    files_c = _landing_files(c.landing)
    assert files_a != files_c
    assert a.truth.spend.equals(b.truth.spend)


def test_every_file_parses_through_its_source(parsed, run):
    assert set(parsed) == {p.parent.parent.name for p in run.files}
    for source, df in parsed.items():
        assert len(df) > 0, source


def test_spend_truth_equals_parsed_files_after_restatement(parsed, run):
    ads = _ad_delivery(parsed)
    got = ads.groupby(["platform", "account_id", "spend_date"])["spend_micros"].sum()
    truth = run.truth.spend.set_index(["platform", "account_id", "spend_date"])[
        "spend_account_currency"
    ]
    assert len(got) == len(truth)
    assert (got.reindex(truth.index) == (truth * 1e6).round().astype("int64")).all()
    # the restated day differs from the first delivery of that day
    restated = run.truth.quirks["restated_file"]
    assert (
        restated.exists() and restated.parent.name == run.truth.quirks["restated_day"].isoformat()
    )
    first = parsed["google_ads"][
        parsed["google_ads"]["_file"] == restated.name.replace("_restated", "")
    ]
    second = parsed["google_ads"][parsed["google_ads"]["_file"] == restated.name]
    assert first["spend_micros"].sum() > second["spend_micros"].sum()
    assert (
        restated.stat().st_mtime
        > (restated.parent / restated.name.replace("_restated", "")).stat().st_mtime
    )


def test_spend_in_reporting_currency_uses_the_written_rates(parsed, run):
    fx = parsed["fx_rates"]
    rates = {}
    for day, rows in fx.groupby("rate_date"):
        by = dict(zip(rows["currency"], rows["rate"], strict=True))
        if rows["base_currency"].iloc[0] == "EUR":
            by["EUR"] = 1.0
            rates.update({(day, c): r / by["USD"] for c, r in by.items()})
        else:
            rates.update({(day, c): r for c, r in by.items()})
    spend = run.truth.spend
    expected = [
        a * rates[d, c]
        for a, d, c in zip(
            spend["spend_account_currency"],
            spend["spend_date"],
            spend["account_currency"],
            strict=True,
        )
    ]
    assert spend["spend"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert set(spend["account_currency"]) >= {"USD", "EUR", "SEK"}


def test_every_currency_used_has_a_rate_every_day(parsed, run):
    used = set(run.truth.spend["account_currency"])
    used |= set(parsed["affiliate"]["currency"].dropna())
    used |= set(parsed["events"]["currency"].dropna())
    fx = parsed["fx_rates"]
    assert {"EUR", "USD"} <= used
    forms = set()
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        rows = fx[fx["rate_date"] == day]
        assert not rows.empty, day
        forms.add(rows["base_currency"].iloc[0])
        covered = set(rows["currency"]) | set(rows["base_currency"])
        assert used <= covered, (day, used - covered)
    assert forms == {"EUR", "USD"}  # the ECB form and the simple form both occur


def test_platform_clicks_cover_landed_clicks_per_campaign_and_day(parsed, run):
    ads = _ad_delivery(parsed)
    clicks = ads.groupby(["platform", "campaign_id", "spend_date"])["clicks"].sum()
    ev = parsed["events"]
    landed = ev[ev["click_id"].notna() & ev["event_type"].eq("page")]
    touches = run.truth.touches
    paid = touches[touches["platform"].notna()]
    # every landed click id belongs to a paid touch whose campaign reports that day
    by_click = paid.set_index("click_id")
    known = landed[landed["click_id"].isin(by_click.index)]
    assert len(known) > 50
    per = paid.groupby(["platform", "campaign_id", "local_date"]).size()
    for (platform, campaign, day), n in per.items():
        assert clicks.get((platform, campaign, day), 0) >= n, (platform, campaign, day)
    assert (ads["impressions"] > 10 * ads["clicks"]).mean() > 0.95


def test_utm_campaign_ids_exist_in_the_exports(parsed):
    ads = _ad_delivery(parsed)
    ev = parsed["events"]
    utm_ids = set(ev["utm_id"].dropna())
    assert utm_ids
    assert utm_ids <= set(ads["campaign_id"])
    assert {"gclid", "msclkid", "fbclid", "ttclid", "li_fat_id", "tblci", "irclickid"} <= set(
        ev["click_id_type"].dropna()
    )


def test_events_have_duplicates_identities_conversions_and_refunds(parsed, run):
    ev = parsed["events"]
    names = set(ev["event_name"].dropna())
    assert {"Order Completed", "Signed Up", "Lead Generated", "Application Installed"} <= names
    assert (ev["event_type"] == "identify").any()
    assert run.truth.quirks["duplicated_message_ids"] > 0
    orders = ev[ev["event_name"] == "Order Completed"]
    assert set(orders["currency"]) == {"USD", "EUR"}
    assert len(orders) == run.truth.revenue["orders"]
    conv = run.truth.conversions
    assert int(conv[conv["conversion_type"] == "purchase"]["conversions"].sum()) == len(orders)
    aff = parsed["affiliate"]
    assert set(aff["order_id"]) <= set(orders["order_id"])
    assert set(aff["network"]) == {"impact", "awin", "cj"}


def test_affiliate_quirks_are_in_the_reports(parsed, run):
    aff = parsed["affiliate"]
    q = run.truth.quirks
    assert "reversed" in set(aff[aff["transaction_id"] == q["impact_reversed"]]["status"])
    assert "reversed" in set(aff[aff["transaction_id"] == q["awin_declined"]]["status"])
    corr = aff[aff["transaction_id"] == q["cj_correction"]]
    assert corr["is_correction"].all() and (corr["sale_amount"] < 0).all()


def test_platforms_over_claim_against_first_party(run):
    pc = run.truth.platform_conversions.groupby("platform")[
        ["platform_conversions", "first_party_claimable"]
    ].sum()
    web = pc.loc[["google_ads", "meta_ads", "microsoft_ads"]]
    assert (web["platform_conversions"] >= web["first_party_claimable"]).all()
    assert pc["platform_conversions"].sum() > pc["first_party_claimable"].sum()


def test_markov_on_true_journeys_follows_the_lift_tiers(tmp_path):
    result = generate(tmp_path, dt.date(2026, 1, 5), 60, seed=7, people=3000, sources=[])
    assert result.files == []
    truth = result.truth
    path_file = truth.write_path_file(tmp_path / "paths.csv")
    out = attribute_path_file(path_file)
    effects = out[out["model"] == "markov"].set_index("channel")["removal_effect"]
    tiers = truth.markov_tiers
    for upper, lower in itertools.pairwise(tiers):
        assert min(effects[c] for c in upper) > max(effects[c] for c in lower), (
            upper,
            lower,
            effects,
        )
    assert max(truth.channel_lift, key=truth.channel_lift.get) in tiers[0] + tiers[1]


def test_event_target_scales_people(tmp_path):
    result = generate(tmp_path, START, 2, seed=3, events=2000, sources=["events"])
    n = sum(1 for p in result.files for _ in p.open(encoding="utf-8"))
    assert 800 < n < 5000


def test_tiny_runs_with_a_subset_of_sources_work(tmp_path):
    """Regression: a run too small for any platform claim used to crash on object dtypes."""
    import datetime as dt

    from pipelines.synth import generate

    res = generate(
        tmp_path,
        start=dt.date(2026, 3, 1),
        days=2,
        seed=7,
        people=150,
        sources=["google_ads", "meta_ads", "fx_rates", "events"],
    )
    written = {p.relative_to(tmp_path / "landing").parts[0] for p in res.files}
    assert written == {"google_ads", "meta_ads", "fx_rates", "events"}


def test_same_seed_gives_the_same_files_in_any_process(tmp_path):
    """Regression: iterating a set consumed the random stream in hash order, so two
    processes (different PYTHONHASHSEED) wrote different data from the same seed."""
    import os
    import subprocess
    import sys

    script = (
        "import datetime as dt, hashlib, sys; from pathlib import Path; "
        "from pipelines.synth import generate; "
        "r = generate(Path(sys.argv[1]), start=dt.date(2026, 3, 2), days=3, seed=5, people=150); "
        "h = hashlib.sha256(); "
        "[h.update(p.read_bytes()) for p in sorted(r.files)]; print(h.hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / hash_seed)],
            env=env, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_true_paths_join_channels_per_key_in_time_order():
    from pipelines.synth.truth import _joined_by

    rows = pd.DataFrame(
        {
            "journey": [3.0, 1.0, 3.0, 1.0, 2.0, 3.0],
            "channel": ["Email", "Direct", "Paid Search", "Email", "Referral", "Direct"],
        }
    )
    got = _joined_by(rows, "journey")
    want = rows.groupby("journey", sort=True)["channel"].agg(" > ".join)
    assert got.to_dict() == want.to_dict()
    assert got.to_dict() == {
        1.0: "Direct > Email",
        2.0: "Referral",
        3.0: "Email > Paid Search > Direct",
    }


def test_uuids_are_version_4_shaped_and_follow_the_seed():
    import re

    import numpy as np

    from pipelines.synth.journeys import uuids

    a, b = uuids(np.random.default_rng(1), 500), uuids(np.random.default_rng(1), 500)
    assert a.tolist() == b.tolist() and len(set(a)) == 500
    shape = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}")
    assert all(isinstance(u, str) and shape.fullmatch(u) for u in a)
    assert uuids(np.random.default_rng(1), 0).tolist() == []
