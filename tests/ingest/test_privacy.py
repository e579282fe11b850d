"""Hashing rules, and the SQL twin of each rule giving the same hashes."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.privacy import (
    hash_email,
    hash_phone,
    normalise_email,
    normalise_phone,
    sql_email_hash,
    sql_phone_hash,
)

EMAILS = ["  Jane.Doe@Example.COM ", "a@b.c", "", None, "o'neil@x.io"]
PHONES = ["+1 (555) 010-2000", "0044 20 7946 0018", "n/a", None, " +49-30-1234"]


def test_normalisation():
    assert normalise_email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    assert normalise_email("   ") is None
    assert normalise_phone("+1 (555) 010-2000") == "+15550102000"
    assert normalise_phone("n/a") is None


def test_salt_changes_the_hash_and_spelling_does_not():
    assert hash_email("A@B.C", "s") == hash_email(" a@b.c", "s") != hash_email("a@b.c", "t")
    assert len(hash_phone("+1 555", "s")) == 64


@pytest.mark.parametrize("salt", ["pepper", "it's", None])
def test_sql_hashes_equal_python_hashes(salt):
    con = duckdb.connect()
    emails = con.execute(
        f"select {sql_email_hash('v', salt)} from unnest(?) with ordinality as t(v, i) order by i",
        [EMAILS],
    ).fetchall()
    phones = con.execute(
        f"select {sql_phone_hash('v', salt)} from unnest(?) with ordinality as t(v, i) order by i",
        [PHONES],
    ).fetchall()
    assert [r[0] for r in emails] == [hash_email(e, salt) for e in EMAILS]
    assert [r[0] for r in phones] == [hash_phone(p, salt) for p in PHONES]
