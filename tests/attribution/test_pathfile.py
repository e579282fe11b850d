"""Path files: tolerant reading, clear errors, every model's channel totals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipelines.attribution.pathfile import (
    RESULT_COLUMNS,
    attribute_path_file,
    attribute_paths_command,
    format_table,
    read_path_file,
    write_path_results,
)
from pipelines.errors import BadInputError

HEADER = "path;total_conversions;total_conversion_value;total_null"


def _write(tmp_path, text: str, name: str = "paths.csv", bom: bool = False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_reads_tolerantly(tmp_path):
    text = (
        f"{HEADER}\r\n"
        "Paid Search>Email ;2;30.5;1\r\n"
        "\r\n"
        "  Email  >  Direct;;;4\r\n"
        "Display;1;;\r\n"
        ";1;7;0\r\n"
    )
    records = read_path_file(_write(tmp_path, text, bom=True))
    assert records == [
        (["Paid Search", "Email"], 2.0, 30.5, 1.0),
        (["Email", "Direct"], 0.0, 0.0, 4.0),
        (["Display"], 1.0, 0.0, 0.0),
        ([], 1.0, 7.0, 0.0),
    ]


def test_columns_in_any_order_and_extra_columns(tmp_path):
    text = "total_null;Path;extra;total_conversions;total_conversion_value\n3;A > B;x;1;9\n"
    assert read_path_file(_write(tmp_path, text)) == [(["A", "B"], 1.0, 9.0, 3.0)]


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("path;total_conversions;total_null\nA;1;0\n", "line 1", "total_conversion_value"),
        (f"{HEADER}\nA;1;10;0\nB;two;0;0\n", "line 3, column 'total_conversions'", "'two'"),
        (f"{HEADER}\nA;1;-5;0\n", "line 2, column 'total_conversion_value'", "'-5'"),
        (f"{HEADER}\nA;1;1;nan\n", "line 2, column 'total_null'", "'nan'"),
        (f"{HEADER}\nA >  > B;1;1;0\n", "line 2, column 'path'", "empty channel name"),
        (f"{HEADER}\nA;1;1\n", "line 2", "expected 4"),
        ("", None, "empty"),
    ],
)
def test_errors_name_line_and_column(tmp_path, text, where, what):
    path = _write(tmp_path, text)
    with pytest.raises(BadInputError) as info:
        read_path_file(path)
    message = str(info.value)
    assert str(path) in message and what in message
    if where:
        assert f"at {where}:" in message


def test_missing_file_is_a_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        read_path_file(tmp_path / "nope.csv")


def test_rule_based_totals_follow_the_sql_definitions(tmp_path):
    # A > B > A: 2 conversions, value 30; B: 1 conversion, value 6; Email > A: nulls only.
    text = f"{HEADER}\nA > B > A;2;30;1\nB;1;6;0\nEmail > A;0;0;5\n"
    df = attribute_path_file(_write(tmp_path, text)).set_index(["model", "channel"])
    assert df.loc[("first_touch", "A"), "attributed_conversions"] == 2
    assert df.loc[("first_touch", "B"), "attributed_value"] == 6
    assert df.loc[("last_touch", "A"), "attributed_conversions"] == 2
    assert df.loc[("last_touch", "B"), "attributed_conversions"] == 1
    # linear: A gets 2/3 of each conversion of A > B > A, B 1/3 (+ all of path B).
    assert df.loc[("linear", "A"), "attributed_conversions"] == pytest.approx(4 / 3)
    assert df.loc[("linear", "B"), "attributed_conversions"] == pytest.approx(2 / 3 + 1)
    assert df.loc[("linear", "A"), "attributed_value"] == pytest.approx(20)
    # Channels seen only on non-converting paths are listed with 0.
    assert df.loc[("linear", "Email"), "attributed_conversions"] == 0


def test_every_model_conserves_and_only_markov_has_effects(tmp_path):
    text = f"{HEADER}\nA > B;3;45;2\nB > C > A;1;20;4\nC;2;10;6\nA;0;0;3\n;1;5;0\n"
    df = attribute_path_file(_write(tmp_path, text))
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert sorted(set(df["model"])) == ["first_touch", "last_touch", "linear", "markov", "shapley"]
    totals = df.groupby("model")[["attributed_conversions", "attributed_value"]].sum()
    assert totals["attributed_conversions"].to_numpy() == pytest.approx([7.0] * 5)
    assert totals["attributed_value"].to_numpy() == pytest.approx([80.0] * 5)
    markov = df[df["model"] == "markov"]
    assert markov["removal_effect"].notna().all() and markov["value_removal_effect"].notna().all()
    assert df[df["model"] != "markov"]["removal_effect"].isna().all()
    # The empty path is credited to Direct in every model.
    direct = df[df["channel"] == "Direct"].set_index("model")["attributed_conversions"]
    assert direct["first_touch"] == 1 and direct["last_touch"] == 1


def test_write_and_command(tmp_path):
    source = _write(tmp_path, f"{HEADER}\nA > B;2;20;1\nB;1;5;3\n")
    out = tmp_path / "out" / "result.csv"
    df = attribute_paths_command(source, out=out)
    back = pd.read_csv(out)
    assert list(back.columns) == list(RESULT_COLUMNS)
    assert len(back) == len(df) == 10
    merged = back.merge(df, on=["channel", "model"], suffixes=("_csv", ""))
    assert (merged["attributed_value_csv"] - merged["attributed_value"]).abs().max() < 1e-9
    table = format_table(df)
    assert "markov" in table and "total" in table
    assert write_path_results(df, tmp_path / "again.csv").exists()


def test_header_only_file_gives_no_rows(tmp_path):
    df = attribute_path_file(_write(tmp_path, HEADER + "\n"))
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)
    assert "no conversions" in format_table(df)


def test_transform_changes_the_data_driven_models_only(tmp_path):
    source = _write(tmp_path, f"{HEADER}\nA > A > B;2;20;1\nA > B;1;5;3\nB;1;1;2\n")
    exposure = attribute_path_file(source, transform="exposure").set_index(["model", "channel"])
    frequency = attribute_path_file(source, transform="frequency").set_index(["model", "channel"])
    assert exposure.loc["linear"].equals(frequency.loc["linear"])
    assert not math.isclose(
        exposure.loc[("shapley", "A"), "attributed_conversions"],
        frequency.loc[("shapley", "A"), "attributed_conversions"],
    )
