"""Affiliate source: Impact, Awin and CJ transaction reports at transaction grain."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.canonical import AFFILIATE_TRANSACTIONS, conform
from pipelines.errors import BadInputError
from pipelines.sources.affiliate.source import SOURCE, detect
from pipelines.sources.base import ParseContext

SAMPLES = SOURCE.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(tz: str = "UTC", **options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options, reporting_timezone=tz)


def by_id(df: pd.DataFrame) -> dict[str, dict]:
    return {r["transaction_id"]: r for r in df.to_dict("records")}


def test_impact_actions_statuses_offsets_and_amounts():
    rows = by_id(SOURCE.parse(SAMPLES / "impact_actions.json", ctx()))
    pending = rows["1000.4636.158133"]
    assert pending["network"] == "impact" and pending["status"] == "pending"
    assert pending["event_at"] == pd.Timestamp("2026-03-02T17:15:00Z")  # 10:15 -07:00
    assert pending["order_id"] == "ORD-20260302-0042"
    assert pending["sale_amount"] == pytest.approx(120.0) and pending[
        "commission_amount"
    ] == pytest.approx(12.0)
    assert pending["publisher_name"] == "Trail Deals Blog" and pending["sub_id"] == "tdb-spring"
    reversed_ = rows["1000.4636.157002"]
    assert (reversed_["status"], reversed_["raw_status"]) == ("reversed", "REVERSED")
    assert reversed_["transaction_date"] == dt.date(2026, 2, 20)  # older event, updated today
    assert reversed_["updated_at"] == pd.Timestamp("2026-03-02T15:00:00Z")
    cleared = rows["1000.4636.156410"]
    assert cleared["updated_at"] == pd.Timestamp("2026-03-01T09:00:00Z")  # ClearedDate
    assert not any(r["is_correction"] for r in rows.values())


def test_transaction_date_is_the_event_day_in_the_reporting_zone():
    # 2026-03-01T22:30:00-07:00 is 2026-03-02 05:30 UTC
    utc = by_id(SOURCE.parse(SAMPLES / "impact_actions.json", ctx("UTC")))
    denver = by_id(SOURCE.parse(SAMPLES / "impact_actions.json", ctx("America/Denver")))
    assert utc["1000.4636.158140"]["transaction_date"] == dt.date(2026, 3, 2)
    assert denver["1000.4636.158140"]["transaction_date"] == dt.date(2026, 3, 1)


def test_impact_csv_export_matches_the_json():
    a = SOURCE.parse(SAMPLES / "impact_actions.json", ctx()).head(2)
    b = SOURCE.parse(SAMPLES / "impact_actions_export.csv", ctx())
    assert conform(a, AFFILIATE_TRANSACTIONS).equals(conform(b, AFFILIATE_TRANSACTIONS))


def test_awin_declined_and_deleted_are_reversed():
    rows = by_id(SOURCE.parse(SAMPLES / "awin_transactions.json", ctx()))
    assert {k: (v["status"], v["raw_status"]) for k, v in rows.items()} == {
        "2451098871": ("pending", "pending"),
        "2451098802": ("approved", "approved"),
        "2450911230": ("reversed", "declined"),
        "2450911231": ("reversed", "deleted"),
    }
    first = rows["2451098871"]
    assert (
        first["currency"] == "GBP"
        and first["sale_amount"] == pytest.approx(64.5)
        and first["commission_amount"] == pytest.approx(3.23)
    )
    assert first["sub_id"] == "ogw-nl-0302" and first["publisher_id"] == "71230"
    assert first["event_at"] == pd.Timestamp("2026-03-02T09:41:00Z")  # naive, read as UTC
    assert rows["2451098802"]["updated_at"] == pd.Timestamp(
        "2026-03-02T07:00:00Z"
    )  # validationDate


def test_awin_naive_times_follow_the_timezone_option():
    rows = by_id(
        SOURCE.parse(SAMPLES / "awin_transactions.json", ctx(awin_timezone="Europe/Berlin"))
    )
    assert rows["2451098871"]["event_at"] == pd.Timestamp("2026-03-02T08:41:00Z")


def test_cj_corrections_stay_separate_negative_rows():
    rows = by_id(SOURCE.parse(SAMPLES / "cj_commissions.json", ctx()))
    original = rows["3298810214"]
    assert (original["status"], original["raw_status"]) == (
        "approved",
        "closed/ACCEPTED",
    )  # lower case
    assert original["is_correction"] is False and pd.isna(original["original_transaction_id"])
    fix = rows["3298811001"]
    assert fix["is_correction"] is True and fix["status"] == "reversed"
    assert (
        fix["original_transaction_id"] == "3298810214" and fix["order_id"] == original["order_id"]
    )
    assert fix["sale_amount"] == pytest.approx(-51.826) and fix[
        "commission_amount"
    ] == pytest.approx(-6.737)
    assert rows["3298809950"]["status"] == "reversed"  # validationStatus DECLINED
    assert rows["3298810777"]["status"] == "pending"
    assert {r["currency"] for r in rows.values()} == {"USD"}


def test_documented_cost_rule_nets_cj_corrections_and_drops_reversed_originals():
    df = pd.concat(
        [
            SOURCE.parse(SAMPLES / f, ctx())
            for f in ("cj_commissions.json", "awin_transactions.json")
        ]
    )
    counted = df[(df["status"] != "reversed") | df["is_correction"]]
    cost = counted.groupby("network")["commission_amount"].sum()
    assert cost["cj"] == pytest.approx(33.687 + 9.62 - 6.737)
    assert cost["awin"] == pytest.approx(3.23 + 5.6)


def test_form_detection():
    assert detect({"Actions": []}) == "impact"
    assert detect([]) == "awin"
    assert detect({"data": {"publisherCommissions": {"records": []}}}) == "cj"
    assert detect({"results": []}) is None


@pytest.mark.parametrize(
    ("file", "message", "where"),
    [
        (
            "impact_non_numeric_payout.json",
            "'8,99 USD' is not a number",
            "Actions[1], field 'Payout'",
        ),
        (
            "impact_event_after_folder_day.json",
            "event date 2026-03-03 is after",
            "1000.4636.158133",
        ),
        ("awin_unknown_currency.json", "unknown currency 'GPB'", "transaction [2]"),
        (
            "awin_missing_commission.json",
            "missing required field 'commissionAmount'",
            "transaction [1]",
        ),
        ("cj_truncated.json", "not valid JSON", "line"),
        ("unrecognised.json", "not an Impact Actions, Awin transactions or CJ", None),
    ],
)
def test_malformed_reports_are_rejected(file, message, where):
    with pytest.raises(BadInputError) as err:
        SOURCE.parse(SAMPLES / "bad" / file, ctx())
    assert message in str(err.value)
    if where:
        assert where in (err.value.where or "")


def test_update_after_the_folder_day_is_rejected(tmp_path):
    doc = json.loads((SAMPLES / "cj_commissions.json").read_text())
    doc["data"]["advertiserCommissions"]["records"][0]["postingDate"] = "2026-03-03T01:00:00Z"
    path = tmp_path / "cj.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInputError, match="last update 2026-03-03 is after"):
        SOURCE.parse(path, ctx())


def test_unknown_status_is_rejected(tmp_path):
    doc = json.loads((SAMPLES / "awin_transactions.json").read_text())
    doc[0]["commissionStatus"] = "bonus"
    path = tmp_path / "awin.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInputError, match="unknown commissionStatus 'bonus'"):
        SOURCE.parse(path, ctx())


def test_cj_graphql_errors_are_reported(tmp_path):
    path = tmp_path / "cj.json"
    path.write_text(json.dumps({"errors": [{"message": "Invalid date range"}], "data": None}))
    with pytest.raises(BadInputError, match="Invalid date range"):
        SOURCE.parse(path, ctx())


def test_unknown_extra_fields_never_break_a_load(tmp_path):
    doc = json.loads((SAMPLES / "impact_actions.json").read_text())
    for a in doc["Actions"]:
        a["SomeNewField"] = {"nested": [1, 2]}
    path = tmp_path / "impact.json"
    path.write_text(json.dumps(doc))
    assert len(SOURCE.parse(path, ctx())) == 4


def _all_rows() -> pd.DataFrame:
    return pd.concat(
        [
            SOURCE.parse(SAMPLES / f, ctx())
            for f in ("impact_actions.json", "awin_transactions.json", "cj_commissions.json")
        ],
        ignore_index=True,
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    def norm(df):
        t = conform(df, AFFILIATE_TRANSACTIONS).to_pandas()
        return t.sort_values(["network", "transaction_id"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(norm(a), norm(b))


def test_write_one_file_per_network_round_trips(tmp_path):
    rows = _all_rows()
    paths = SOURCE.write(rows, tmp_path, ctx())
    assert sorted(p.name for p in paths) == [
        "awin_transactions_2026-03-02.json",
        "cj_commissions_2026-03-02.json",
        "impact_actions_2026-03-02.json",
    ]
    _same(pd.concat([SOURCE.parse(p, ctx()) for p in paths]), rows)


@pytest.mark.parametrize(
    ("fmt", "network"),
    [("impact", "impact"), ("impact_csv", "impact"), ("awin", "awin"), ("cj", "cj")],
)
def test_write_each_network_form_round_trips(tmp_path, fmt, network):
    rows = _all_rows()
    rows = rows[rows["network"] == network].reset_index(drop=True)
    (path,) = SOURCE.write(rows, tmp_path, ctx(), fmt)
    _same(SOURCE.parse(path, ctx()), rows)


def test_cj_writer_renders_corrections_as_negative_non_original_records(tmp_path):
    rows = _all_rows()
    (path,) = SOURCE.write(rows[rows["network"] == "cj"], tmp_path, ctx(), "cj")
    records = json.loads(path.read_text())["data"]["advertiserCommissions"]["records"]
    fix = next(r for r in records if r["commissionId"] == "3298811001")
    assert fix["original"] is False and fix["originalActionId"] == "3298810214"
    assert fix["advCommissionAmountUsd"] == "-6.737" and fix["correctionReason"]


def test_synthetic_reversal_rows_render_in_each_network(tmp_path):
    rows = _all_rows()
    impact = rows[rows["network"] == "impact"].copy()
    impact["raw_status"] = None  # rows from the generator carry only the normalised status
    (path,) = SOURCE.write(impact, tmp_path, ctx(), "impact")
    states = {a["Id"]: a["State"] for a in json.loads(path.read_text())["Actions"]}
    assert states["1000.4636.157002"] == "REVERSED"
    awin = copy.deepcopy(rows[rows["network"] == "awin"])
    awin["raw_status"] = None
    (path,) = SOURCE.write(awin, tmp_path, ctx(), "awin")
    doc = json.loads(path.read_text())
    assert {t["commissionStatus"] for t in doc} == {"pending", "approved", "declined"}
