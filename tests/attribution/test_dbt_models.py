"""The data-driven dbt models, run by dbt-duckdb on a small project of their own.

The project under ``tmp_path`` holds the real model files (the path aggregates
int_path_positions / int_path_outcomes, the Python models int_path_credits and
int_markov_channel_effects, attr_markov, attr_shapley, mart_markov_channel_effects and their
yml, the portable macros) and an ``int_journeys`` read from a seed; it checks that the
settings reach the models as configs and that the tables equal what pipelines.attribution
computes directly on the journeys. It also loads a table through the adapter the way
pipelines.warehouse does on engines without Python models (load_python_result).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt.cli.main import dbtRunner

from pipelines.attribution.journeys import attribute_journeys, markov_channel_effects

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
OWN_FILES = {
    "attribution": [
        "attr_markov.sql",
        "attr_shapley.sql",
        "int_path_positions.sql",
        "int_path_outcomes.sql",
        "int_path_credits.py",
        "int_markov_channel_effects.py",
        "_data_driven.yml",
    ],
    "marts": ["mart_markov_channel_effects.sql", "mart_markov_channel_effects.yml"],
}
# As in the warehouse: a non-converting journey is its person's only one, and its touch
# order (touch_position) is the order of touched_at
INT_JOURNEYS = """
select
    cast(journey_id as varchar) as journey_id,
    cast(journey_id as varchar) as person_key,
    cast(touch_position as integer) as touch_position,
    timestamp '2026-03-01' + to_minutes(cast(touch_position as bigint)) as touched_at,
    cast(touchpoint_id as varchar) as touchpoint_id,
    cast(channel as varchar) as channel,
    cast(is_conversion as boolean) as is_conversion,
    cast(conversion_id as varchar) as conversion_id,
    cast(conversion_value as decimal(18, 2)) as conversion_value
from {{ ref('journeys_seed') }}
"""


def _project(root: Path, journeys: pd.DataFrame) -> None:
    for folder, names in OWN_FILES.items():
        (root / "models" / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(MODELS / folder / name, root / "models" / folder / name)
    (root / "macros").mkdir()
    for macros in ("portable.sql", "python_results.sql", "journey_paths.sql"):
        shutil.copy(MODELS.parent / "macros" / macros, root / "macros" / macros)
    shutil.copy(MODELS.parent / "macros" / "tests" / "generic_tests.sql", root / "macros")
    (root / "models" / "intermediate").mkdir()
    (root / "models" / "intermediate" / "int_journeys.sql").write_text(INT_JOURNEYS)
    (root / "seeds").mkdir()
    journeys.to_csv(root / "seeds" / "journeys_seed.csv", index=False)
    (root / "dbt_project.yml").write_text(
        "name: attribution\nversion: '1.0.0'\nconfig-version: 2\nprofile: attribution\n"
        "models:\n  attribution:\n    +materialized: table\n"
        "    attribution:\n      +tags: ['attribution']\n    marts:\n      +tags: ['published']\n"
    )
    (root / "profiles.yml").write_text(
        "attribution:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: '{root / 'warehouse.duckdb'}'\n      threads: 1\n"
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, make_journeys):
    root = tmp_path_factory.mktemp("dbt_data_driven")
    journeys = make_journeys(
        [
            (["Paid Search", "Email", "Email"], True, 40.5),
            (["Paid Search", "Email"], False, 0),
            (["Email", "Direct", "Email"], True, 15.0),
            (["Display"], False, 0),
            (["Display", "Paid Search", "Email"], True, 60.0),
            (["Paid Search"], True, 9.99),
            ([], True, 5.0),
        ]
    ).drop(columns=["person_key", "touched_at"])
    _project(root, journeys)
    result = dbtRunner().invoke(
        [
            "build",
            "--project-dir", str(root),
            "--profiles-dir", str(root),
            "--log-path", str(root / "logs"),
            "--target-path", str(root / "target"),
            "--vars", json.dumps({"path_transform": "unique", "markov_order": 2}),
        ]
    )  # fmt: skip
    assert result.success, result.exception
    # dbt-duckdb keeps its connection open in this process: connect with the same (default)
    # configuration, not read-only.
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        tables = {
            name: con.sql(f"select * from {name}").df()
            for name in ("attr_markov", "attr_shapley", "mart_markov_channel_effects")
        }
        types = {r[0]: r[1] for r in con.sql("describe mart_markov_channel_effects").fetchall()}
    return journeys, tables, types


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["conversion_id", "touchpoint_id"]).reset_index(drop=True)


def test_attribution_tables_equal_the_library(built):
    journeys, tables, _ = built
    for model in ("markov", "shapley"):
        expected = attribute_journeys(journeys, model, transform="unique", order=2)
        got = tables[f"attr_{model}"]
        assert list(got.columns) == [
            "conversion_id",
            "touchpoint_id",
            "model",
            "credit",
            "value_credit",
        ]
        pd.testing.assert_series_equal(
            _sorted(got)["credit"], _sorted(expected)["credit"], check_exact=False, atol=1e-12
        )
        sums = got.groupby("conversion_id")["credit"].sum()
        assert (sums - 1).abs().max() < 1e-9 and len(sums) == 5


def test_mart_uses_the_configured_transform_and_order(built):
    journeys, tables, types = built
    mart = tables["mart_markov_channel_effects"].set_index("channel").sort_index()
    expected = markov_channel_effects(journeys, transform="unique", order=2).set_index("channel")
    default = markov_channel_effects(journeys).set_index("channel")
    pd.testing.assert_frame_equal(mart, expected.sort_index(), check_dtype=False, atol=1e-12)
    assert not mart["removal_effect"].equals(default.sort_index()["removal_effect"])
    assert types["removal_effect"] == "DOUBLE" and types["channel"] == "VARCHAR"


def test_a_table_computed_in_python_loads_through_the_adapter(built, tmp_path_factory):
    """load_python_result replaces a model's table with the given rows, doubles exact."""
    root = next(p for p in tmp_path_factory.getbasetemp().glob("dbt_data_driven*"))
    value = 0.1 + 0.2  # not a short decimal: must arrive bit for bit
    args = {
        "model_name": "int_markov_channel_effects",
        "columns": [["channel", "string"], ["removal_effect", "double"]],
        "rows": [["O'Reilly \\ Search", f"{value:.17e}"], ["Email", None]],
    }
    result = dbtRunner().invoke(
        [
            "run-operation", "load_python_result", "--args", json.dumps(args),
            "--project-dir", str(root), "--profiles-dir", str(root),
            "--log-path", str(root / "logs"), "--target-path", str(root / "target"),
        ]
    )  # fmt: skip
    assert result.success, result.exception
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        rows = con.sql(
            "select channel, removal_effect from int_markov_channel_effects order by channel"
        ).fetchall()
    assert rows == [("Email", None), ("O'Reilly \\ Search", value)]
