"""The events writer (column-wise) against a plain per-row reference rendering of the mapping.

``_reference_message`` is the readable statement of README.md's writer mapping, one row at
a time with ``json.dumps``; ``segment_lines`` / ``SOURCE.write`` must give the same JSON for
every row (values, types, keys present or omitted).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from pipelines.sources.base import ParseContext
from pipelines.sources.events.source import (
    _CONTEXT_CAMPAIGN_KEY,
    SOURCE,
    UTM_FIELDS,
    WRITE_CHUNK_ROWS,
    segment_lines,
)
from pipelines.synth.events import event_index, landing_tags, lookups, render_day
from pipelines.synth.journeys import simulate

START = dt.date(2026, 3, 2)
DAYS = 7


# ------------------------------------------------------------------ reference rendering
def _is_null(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _iso(ts: object) -> str | None:
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reference_message(r: dict) -> dict:
    """One row as a Segment message, per README.md's writer section."""
    etype = r.get("event_type") or "track"
    at = _iso(r.get("event_at"))
    msg: dict = {
        "type": etype,
        "messageId": r.get("event_id"),
        "anonymousId": r.get("anonymous_id"),
        "userId": r.get("user_id"),
        "timestamp": at,
        "originalTimestamp": at,
        "sentAt": at,
        "receivedAt": _iso(r.get("received_at")),
    }
    if etype == "track":
        msg["event"] = r.get("event_name")
    elif etype in ("page", "screen"):
        msg["name"] = r.get("event_name")
    context: dict = {}
    campaign = {
        _CONTEXT_CAMPAIGN_KEY.get(u, u): r.get(f"utm_{u}")
        for u in UTM_FIELDS
        if r.get(f"utm_{u}") is not None
    }
    if campaign:
        context["campaign"] = campaign
    page = {"url": r.get("page_url"), "referrer": r.get("referrer_url")}
    click_type, click_id = r.get("click_id_type"), r.get("click_id")
    if click_type and click_id and f"{click_type}=" not in (r.get("page_url") or ""):
        page["search"] = f"?{click_type}={click_id}"
    page = {k: v for k, v in page.items() if v is not None}
    if page:
        context["page"] = page
    extra = json.loads(r["properties_json"]) if r.get("properties_json") else {}
    pii = {k: r.get(k) for k in ("email", "phone") if r.get(k) is not None}
    if etype == "identify":
        msg["traits"] = {**extra, **pii}
    else:
        if pii:
            context["traits"] = pii
        props = dict(extra)
        for key in ("order_id", "revenue", "currency"):
            if r.get(key) is not None:
                props[key] = r[key]
        if props:
            msg["properties"] = props
    if context:
        msg["context"] = context
    return {k: v for k, v in msg.items() if v is not None}


def _reference_lines(rows: pd.DataFrame) -> list[str]:
    records = [
        {k: (None if _is_null(v) else v) for k, v in rec.items()} for rec in rows.to_dict("records")
    ]
    return [json.dumps(_reference_message(r), separators=(",", ":")) for r in records]


def _canonical(line: str) -> str:
    """Key-order-free text that still tells 8 from 8.0 and null from absent."""
    return json.dumps(json.loads(line), sort_keys=True)


# ------------------------------------------------------------------ frames
@pytest.fixture(scope="module")
def synth_rows() -> pd.DataFrame:
    """A week of the synthetic generator's event rows (all kinds of event)."""
    sim = simulate(START, DAYS, 7, 400)
    look = lookups(sim, landing_tags(sim))
    ev = event_index(sim)
    bounds = np.searchsorted(ev["day"].to_numpy(), np.arange(DAYS + 1))
    return pd.concat(
        [render_day(look, ev.iloc[bounds[i] : bounds[i + 1]], 7, i) for i in range(DAYS)],
        ignore_index=True,
    )


def _tricky_rows() -> pd.DataFrame:
    """Hand-made rows for every branch of the mapping and every escaping case."""
    t = pd.Timestamp("2026-03-02T10:11:12.345678Z")
    base = {
        "event_id": "e",
        "event_type": "track",
        "event_name": "Order Completed",
        "event_at": t,
        "received_at": t + pd.Timedelta(seconds=1),
        "anonymous_id": "a",
        "user_id": None,
        "page_url": None,
        "referrer_url": None,
        **{f"utm_{u}": None for u in UTM_FIELDS},
        "click_id_type": None,
        "click_id": None,
        "order_id": None,
        "revenue": np.nan,
        "currency": None,
        "properties_json": None,
        "email": None,
        "phone": None,
    }
    cases = [
        {"event_name": 'say "hi" \\ back\\slash', "user_id": "ü-ñ-日本-😀"},
        {"event_type": "identify", "email": "Zoë@Example.org", "phone": "+44 20 7946 0018"},
        {"event_type": "identify"},  # no traits at all: still "traits": {}
        {"event_type": "identify", "properties_json": '{"plan":"pro","email":"old@x.io"}'},
        {"event_type": "identify", "properties_json": '{"email":"kept@x.io","n":1}'},
        {"event_type": None, "event_name": "no type means track"},
        {"event_type": "", "event_name": "empty type means track"},
        {"event_type": "screen", "event_name": "Home Screen"},
        {"event_type": "alias", "event_name": "not written for alias"},
        {"event_type": "page", "event_name": None, "page_url": "https://x.io/a\tb\nc"},
        {"order_id": "o-1", "revenue": 100.0, "currency": "EUR"},
        {"order_id": "o-2", "revenue": 0.1 + 0.2, "currency": "usd", "email": "a@b.c"},
        {"order_id": "o-3", "revenue": np.nan, "properties_json": '{"total":  8.00}'},
        {
            "order_id": "o-4",
            "revenue": 12.5,
            "properties_json": '{"order_id":"from-json","revenue":1,"tax":1.0E1,"x":null}',
        },
        {"properties_json": '{"order_id":"only-in-json","currency":"GBP"}'},
        {"properties_json": ""},
        {"properties_json": "{}"},
        {"properties_json": '{"nested":{"a":[1,2.5,"\\u00e9",true,null]},"q":"\\"\\\\"}'},
        {"properties_json": '{"dup":1,"dup":2}'},
        {
            "page_url": "https://x.io/?gclid=ABC",
            "click_id_type": "gclid",
            "click_id": "ABC",
            "utm_source": "google",
            "utm_campaign": "Brand \u2013 Search",
            "utm_term": "",
        },
        {"page_url": "https://x.io/?utm_source=x", "click_id_type": "fbclid", "click_id": "F"},
        {"page_url": None, "click_id_type": "ttclid", "click_id": "T\\1"},
        {"page_url": "https://x.io/", "click_id_type": "gclid", "click_id": ""},
        {"page_url": "https://x.io/", "click_id_type": "", "click_id": "X"},
        {"page_url": "https://x.io/?GCLID=a", "click_id_type": "gclid", "click_id": "b"},
        {"referrer_url": "https://ref.example/\u0001ctl", "received_at": pd.NaT},
        {"event_at": pd.NaT, "event_id": None, "anonymous_id": None},
        {"event_id": "</script>\u2028\u007f", "email": "", "phone": None},
    ]
    rows = pd.DataFrame([{**base, "event_id": f"e{i}", **c} for i, c in enumerate(cases)])
    rows["event_at"] = pd.to_datetime(rows["event_at"], utc=True)
    rows["received_at"] = pd.to_datetime(rows["received_at"], utc=True)
    return rows


# ------------------------------------------------------------------ tests
def test_synthetic_rows_give_the_reference_bytes(synth_rows):
    kinds = set(synth_rows["event_name"].dropna()) | set(synth_rows["event_type"])
    assert {"page", "identify", "Order Completed", "Order Refunded"} <= kinds
    assert {"Application Installed", "Signed Up", "Lead Generated"} <= kinds
    assert synth_rows["revenue"].isna().any() and synth_rows["revenue"].notna().any()
    assert synth_rows["click_id"].notna().any() and synth_rows["email"].notna().any()

    expected = "".join(line + "\n" for line in _reference_lines(synth_rows))
    assert segment_lines(synth_rows).decode("utf-8") == expected


def test_tricky_rows_give_the_reference_json_line_by_line():
    rows = _tricky_rows()
    got = segment_lines(rows).decode("ascii").split("\n")
    assert got[-1] == ""  # every line ends in a newline
    got = got[:-1]
    expected = _reference_lines(rows)
    assert len(got) == len(expected) == len(rows)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert _canonical(g) == _canonical(e), f"row {i}: {rows.iloc[i].dropna().to_dict()}"
    # rows whose properties_json repeats no mapped key keep the reference key order too
    conflicting = rows["properties_json"].fillna("").str.contains('"(?:order_id|revenue|email)"')
    for g, e, c in zip(got, expected, conflicting, strict=True):
        if not c:
            assert g == e


def test_missing_columns_naive_and_text_times_are_written_like_the_reference():
    rows = pd.DataFrame(
        {
            "event_id": ["n1", "n2", "n3"],
            "event_type": ["track", "page", "identify"],
            "event_name": ["Signed Up", "Home", None],
            "event_at": pd.to_datetime(
                ["2026-03-02 08:00:00", "2026-03-02 09:30:00.5", "2026-03-02 10:00:00"],
                format="ISO8601",
            ),
            "received_at": [
                "2026-03-02T08:00:01+01:00",
                None,
                pd.Timestamp("2026-03-02T10:00:02", tz="America/New_York"),
            ],
            "revenue": [3, None, None],
            "ip": ["198.51.100.7", None, None],
        }
    )
    got = segment_lines(rows).decode("ascii").splitlines()
    expected = _reference_lines(rows)
    assert [_canonical(g) for g in got] == [_canonical(e) for e in expected]
    assert json.loads(got[0])["properties"] == {"revenue": 3}
    assert json.loads(got[1])["timestamp"] == "2026-03-02T09:30:00.500000Z"
    assert "receivedAt" not in json.loads(got[1])


def test_properties_json_that_is_not_an_object_is_refused():
    rows = _tricky_rows().head(1).assign(properties_json="[1, 2]")
    with pytest.raises(ValueError, match="properties_json '\\[1, 2\\]' is not a JSON object"):
        segment_lines(rows)


def test_gzip_holds_the_same_lines_and_the_same_rows_give_the_same_bytes(synth_rows, tmp_path):
    ctx = ParseContext(folder_date=START, allow_unsalted_pii=True)
    (plain,) = SOURCE.write(synth_rows, tmp_path / "plain", ctx)
    (gz1,) = SOURCE.write(synth_rows, tmp_path / "gz1", ctx, "jsonl.gz")
    (gz2,) = SOURCE.write(synth_rows, tmp_path / "gz2", ctx, "jsonl.gz")
    assert plain.name == "events-2026-03-02.jsonl" and gz1.name == "events-2026-03-02.jsonl.gz"
    assert gzip.decompress(gz1.read_bytes()) == plain.read_bytes()
    assert gz1.read_bytes() == gz2.read_bytes()  # no name or time in the gzip header


def test_frames_longer_than_one_chunk_are_written_whole(synth_rows, tmp_path):
    ctx = ParseContext(folder_date=START, allow_unsalted_pii=True)
    reps = WRITE_CHUNK_ROWS // len(synth_rows) + 2
    big = pd.concat([synth_rows] * reps, ignore_index=True)
    (path,) = SOURCE.write(big, tmp_path, ctx)
    data = path.read_bytes()
    assert data.count(b"\n") == len(big) > WRITE_CHUNK_ROWS
    assert data == segment_lines(synth_rows) * reps


def test_empty_frame_writes_an_empty_file(tmp_path):
    ctx = ParseContext(folder_date=START)
    (path,) = SOURCE.write(_tricky_rows().head(0), tmp_path, ctx)
    assert path.read_bytes() == b""


def test_written_files_parse_to_the_rows_of_the_reference_file(synth_rows, tmp_path):
    """The parser reads the new writer's file into the same canonical rows as a file
    rendered by the reference, and those rows carry the frame's values."""
    ctx = ParseContext(
        folder_date=START + dt.timedelta(days=3),
        pii_salt="writer-test-salt",
        options={"day_tolerance_days": DAYS},
    )
    (path,) = SOURCE.write(synth_rows, tmp_path / "new", ctx, "jsonl.gz")
    ref = tmp_path / "ref" / "events.jsonl"
    ref.parent.mkdir()
    ref.write_text("".join(line + "\n" for line in _reference_lines(synth_rows)), "utf-8")

    got, want = SOURCE.parse(path, ctx), SOURCE.parse(ref, ctx)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == synth_rows["event_id"].nunique()
    first = synth_rows.drop_duplicates("event_id").reset_index(drop=True)
    assert got["event_id"].tolist() == first["event_id"].tolist()
    assert got["event_type"].tolist() == first["event_type"].tolist()
    assert (got["event_at"] == first["event_at"]).all()
    assert got["revenue"].isna().tolist() == first["revenue"].isna().tolist()
    assert np.allclose(got["revenue"].dropna(), first["revenue"].dropna())
