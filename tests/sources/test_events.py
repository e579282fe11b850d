"""The events source beyond the generic contract: hashing, PII refusal, gz, streaming path."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.errors import BadInputError
from pipelines.privacy import PiiSaltMissingError, hash_email, hash_phone
from pipelines.sources.base import ParseContext
from pipelines.sources.events.source import SOURCE

DAY = dt.date(2026, 3, 2)


def _write_lines(path, events):
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return path


def _event(i, **extra):
    return {
        "type": "track",
        "event": "Signed Up",
        "messageId": f"m-{i}",
        "anonymousId": "a-1",
        "timestamp": "2026-03-02T12:00:00Z",
        **extra,
    }


def test_writer_pii_columns_are_hashed_on_parse_and_never_stored_raw(tmp_path):
    ctx = ParseContext(folder_date=DAY, pii_salt="s3cret")
    rows = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "event_type": ["identify", "track"],
            "event_name": [None, "Lead Generated"],
            "event_at": pd.to_datetime(["2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"]),
            "anonymous_id": ["a", "a"],
            "user_id": ["u", None],
            "email": [" Ann@Example.org", None],
            "phone": ["+44 20 7946 0018", "0044-20-7946-0018"],
            "ip": ["198.51.100.7", "198.51.100.7"],
        }
    )
    (path,) = SOURCE.write(rows, tmp_path, ctx, "jsonl.gz")
    with gzip.open(path, "rt") as fh:
        text = fh.read()
    assert "Ann@Example.org" in text  # the writer renders raw traits like a tracker does

    out = SOURCE.parse(path, ctx)

    assert out["email_hash"].tolist()[0] == hash_email("ann@example.org", "s3cret")
    assert out["phone_hash"].tolist() == [
        hash_phone("+442079460018", "s3cret"),
        hash_phone("00442079460018", "s3cret"),
    ]
    stored = out.to_csv()
    assert "Example" not in stored and "7946" not in stored and "198.51" not in stored


def test_pii_without_salt_is_refused_unless_dev_mode(tmp_path):
    path = _write_lines(tmp_path / "e.jsonl", [_event(1, context={"traits": {"email": "a@b.c"}})])
    with pytest.raises(PiiSaltMissingError, match="ATTRIBUTION_PII_SALT"):
        SOURCE.parse(path, ParseContext(folder_date=DAY))
    out = SOURCE.parse(path, ParseContext(folder_date=DAY, allow_unsalted_pii=True))
    assert out["email_hash"].tolist() == [hash_email("a@b.c", None)]


def test_no_pii_needs_no_salt(tmp_path):
    path = _write_lines(tmp_path / "e.jsonl", [_event(1)])
    assert len(SOURCE.parse(path, ParseContext(folder_date=DAY))) == 1


def test_duplicate_message_ids_are_dropped_and_unknown_fields_ignored(tmp_path):
    events = [_event(1, extra_field={"x": [1, 2]}), _event(1), _event(2, properties=[1])]
    out = SOURCE.parse(_write_lines(tmp_path / "e.json", events), ParseContext(folder_date=DAY))
    assert out["event_id"].tolist() == ["m-1", "m-2"]
    assert out["properties_json"].isna().all()


def test_utms_from_url_only_and_click_id_case_is_kept(tmp_path):
    url = "https://x.io/?utm_source=News%20Letter&utm_campaign=a+b&gbraid=0AAAAA-Zz&gclid="
    events = [_event(1, context={"page": {"url": url}})]
    out = SOURCE.parse(_write_lines(tmp_path / "e.jsonl", events), ParseContext(folder_date=DAY))
    row = out.iloc[0]
    assert (row.utm_source, row.utm_campaign) == ("News Letter", "a b")
    assert (row.click_id_type, row.click_id) == ("gbraid", "0AAAAA-Zz")


def test_late_event_within_tolerance_loads_and_option_widens_it(tmp_path):
    path = _write_lines(tmp_path / "e.jsonl", [_event(1, timestamp="2026-02-28T23:00:00Z")])
    with pytest.raises(BadInputError, match="line 1"):
        SOURCE.parse(path, ParseContext(folder_date=DAY))
    ctx = ParseContext(folder_date=DAY, options={"day_tolerance_days": 2})
    assert len(SOURCE.parse(path, ctx)) == 1


def test_parse_to_parquet_streams_the_same_rows(tmp_path):
    events = [_event(i, timestamp=f"2026-03-02T{i % 24:02d}:00:00Z") for i in range(500)]
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(e) for e in events) + "\n")
    ctx = ParseContext(folder_date=DAY)
    out = tmp_path / "out.parquet"
    assert SOURCE.parse_to_parquet(path, ctx, out) == 500
    streamed = pq.read_table(out).to_pandas()
    pd.testing.assert_frame_equal(streamed, SOURCE.parse(path, ctx))


def test_running_out_of_memory_is_the_machines_fault_not_the_files(tmp_path):
    """An out-of-memory error must never quarantine a good file: it is exit 1, not 2."""
    from pipelines.errors import PipelineError

    path = _write_lines(tmp_path / "day.jsonl", [_event(i) for i in range(2000)])
    ctx = ParseContext(folder_date=DAY, duckdb={"threads": 1, "memory_limit": "1MB"})
    with pytest.raises(PipelineError) as info:
        SOURCE.parse_to_parquet(path, ctx, tmp_path / "out.parquet")
    assert not isinstance(info.value, BadInputError)
    assert "memory" in str(info.value)


def test_the_configured_memory_limit_is_applied(tmp_path):
    path = _write_lines(tmp_path / "day.jsonl", [_event(i) for i in range(50)])
    ctx = ParseContext(folder_date=DAY, duckdb={"threads": 1, "memory_limit": "256MB"})
    assert SOURCE.parse_to_parquet(path, ctx, tmp_path / "out.parquet") == 50
    con = SOURCE._connect(ctx)
    try:
        limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    finally:
        con.close()
    assert limit.replace(" ", "").upper().startswith(("256", "244"))
