"""Adding an attribution model is one file: a new attr_<name>.sql in a copy of the project.

The copy of ``dbt_project/`` under ``tmp_path`` gets ``attr_first_and_last.sql`` (half the
credit to the first touch, half to the last); the settings point at the copy
(``ATTRIBUTION_DBT_PROJECT_DIR``) and enable the model (``ATTRIBUTION__ATTRIBUTION__MODELS``).
No other file changes, yet the model reaches the fact table and every mart built on it.
"""

from __future__ import annotations

import pytest
from tiny_lake import copy_project, query, write_lake

from pipelines import warehouse
from pipelines.config import DBT_PROJECT_DIR, ConfigError, load_settings

CONVERSIONS = 5  # the tiny lake's conversions (see test_warehouse.py)
MODEL = "first_and_last"
MODEL_SQL = """\
{{ config(materialized='view', tags=['path_local']) }}
{#-
    first_and_last: half the credit to the first touch and half to the last; a path of
    one touch (or an empty path's Direct row) gets all of it, middle touches nothing.
-#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        touch_position,
        count(*) over (partition by conversion_id) as touch_count
    from {{ ref('int_conversion_paths') }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        case
            when touch_count = 1 then 1.0
            when touch_position = 1 or touch_position = touch_count then 0.5
            else 0.0
        end as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('first_and_last' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
"""


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    root = tmp_path_factory.mktemp("add_a_model")
    project = copy_project(root / "dbt_project")
    (project / "models" / "attribution" / f"attr_{MODEL}.sql").write_text(MODEL_SQL)
    settings = load_settings(
        data_dir=root / "data",
        environ={
            "ATTRIBUTION_DBT_PROJECT_DIR": str(project),
            "ATTRIBUTION__ATTRIBUTION__MODELS": f"[first_touch, last_touch, {MODEL}]",
        },
    )
    write_lake(settings)
    result = warehouse.build(settings)
    return settings, result


def test_the_build_runs_the_copy(custom):
    _, result = custom
    assert result.success
    assert f"attr_{MODEL}" in {n.name for n in result.models}
    assert not (DBT_PROJECT_DIR / "models" / "attribution" / f"attr_{MODEL}.sql").exists()


def test_the_new_model_is_in_the_fact_table_and_conserves(custom):
    settings, _ = custom
    fct = query(
        settings,
        f"""
        select conversion_id, path_length, touch_position, credit, conversion_value,
            attributed_value
        from fct_attributed_conversions where model = '{MODEL}'
        """,
    )
    per_conversion = fct.groupby("conversion_id").agg(
        credit=("credit", "sum"),
        value=("attributed_value", "sum"),
        conversion_value=("conversion_value", "first"),
    )
    assert len(per_conversion) == CONVERSIONS
    assert (per_conversion["credit"] - 1).abs().max() < 1e-9
    assert (per_conversion["value"] - per_conversion["conversion_value"]).abs().max() < 1e-9
    # The model's own rule: 1 for a one-touch path, else 1/2 at both ends.
    for row in fct.itertuples():
        if row.path_length <= 1:
            expected = 1.0
        elif row.touch_position in (1, row.path_length):
            expected = 0.5
        else:
            expected = 0.0
        assert row.credit == pytest.approx(expected), row
    assert (fct["path_length"] >= 2).any()  # the rule is exercised, not only one-touch paths
    models = set(query(settings, "select distinct model from fct_attributed_conversions")["model"])
    assert models == {"first_touch", "last_touch", MODEL}


def test_the_new_model_reaches_every_mart(custom):
    settings, _ = custom
    for mart in ("fct_channel_performance_daily", "mart_kpi_daily"):
        totals = query(
            settings,
            f"""
            select date_basis, sum(attributed_conversions) as conversions
            from {mart} where model = '{MODEL}' group by date_basis
            """,
        ).set_index("date_basis")["conversions"]
        assert sorted(totals.index) == ["conversion", "touch"], mart
        assert totals.to_numpy() == pytest.approx([CONVERSIONS, CONVERSIONS]), mart
    comparison = query(
        settings,
        f"select * from mart_model_comparison where model = '{MODEL}'",
    )
    assert comparison["attributed_conversions"].sum() == pytest.approx(CONVERSIONS)
    assert comparison["conversion_share"].sum() == pytest.approx(1.0)
    fct_by_channel = query(
        settings,
        f"""
        select channel, sum(credit) as conversions from fct_attributed_conversions
        where model = '{MODEL}' group by channel
        """,
    ).set_index("channel")["conversions"]
    by_channel = comparison.set_index("channel")["attributed_conversions"]
    assert by_channel.loc[fct_by_channel.index].to_numpy() == pytest.approx(
        fct_by_channel.to_numpy()
    )


def test_the_project_dir_must_be_a_dbt_project(tmp_path):
    with pytest.raises(ConfigError, match="ATTRIBUTION_DBT_PROJECT_DIR"):
        load_settings(
            data_dir=tmp_path / "data",
            environ={"ATTRIBUTION_DBT_PROJECT_DIR": str(tmp_path / "nowhere")},
        )
    default = load_settings(data_dir=tmp_path / "data", environ={})
    assert default.dbt_project_dir == DBT_PROJECT_DIR
