"""Portable SQL: the idiom lint on the whole dbt project, and the engine-dependent macros.

The lint (pipelines.portability) must find nothing in the project and must find each
DuckDB-only idiom of the recipe when it appears outside a ``duckdb__`` macro. The macros
whose SQL differs by engine are evaluated on DuckDB here (pipelines.parity.MACRO_PROBE_SQL);
``make test-spark`` evaluates the same probe on Spark and compares.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.config import load_settings
from pipelines.parity import MACRO_PROBE_EXPECTED, probe_macros
from pipelines.portability import IDIOMS, lint_project, lint_sql, main

SAMPLES = {
    "::varchar": "select x::varchar as y from t",
    "cast as varchar/text": "select cast(x as text) as y from t",
    "epoch()": "select epoch(ts) from t",
    "epoch_ms()": "select epoch_ms(ts) from t",
    "date_diff('unit', ...)": "select date_diff('day', a, b) from t",
    "strftime()": "select strftime(ts, '%Y') from t",
    "strptime()": "select strptime(s, '%Y') from t",
    "list literal [..]": "select [1, 2] as l",
    "list_*()": "select list_sum(l) from t",
    "unnest()": "select unnest(l) from t",
    "string_split()": "select string_split(s, ',') from t",
    "arg_max()/arg_min()": "select arg_max(a, b) from t",
    "struct literal {'..': ..}": "select {'a': 1} as s",
    "select * exclude (..)": "select * exclude (a) from t",
    "// integer division": "select a // 2 from t",
    "generate_series()": "select * from generate_series(1, 3)",
    "count(distinct ..) over (..)": "select count(distinct a) over (partition by b) from t",
}


def test_the_dbt_project_has_no_duckdb_only_idioms():
    findings = lint_project()
    assert findings == [], "\n".join(str(f) for f in findings)
    assert main([]) == 0


@pytest.mark.parametrize("idiom", sorted(SAMPLES))
def test_each_duckdb_only_idiom_is_found(idiom):
    assert set(SAMPLES) == {name for name, _, _ in IDIOMS}
    findings = lint_sql("with t as (select 1 as a)\n" + SAMPLES[idiom], Path("m.sql"))
    assert [(f.idiom, f.line) for f in findings] == [(idiom, 2)]


def test_duckdb_macros_comments_strings_and_jinja_are_not_linted():
    sql = """
{% macro duckdb__epoch_seconds(x) -%} epoch({{ x }})::varchar {%- endmacro %}
{% macro default__epoch_seconds(x) -%} unix_seconds({{ x }}) {%- endmacro %}
{# epoch(x) in a comment #}
-- list_sum([1, 2]) in a comment
select '%://%' as pattern, {{ config(keys=['a'], hook="{{ other() }}") }}
"""
    assert lint_sql(sql) == []
    assert [f.idiom for f in lint_sql(sql + "select epoch(x)\n")] == ["epoch()"]


def test_the_lint_fails_on_a_project_with_an_idiom(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.sql").write_text("select\n    a::varchar as b\nfrom t\n")
    findings = lint_project(tmp_path)
    assert [(str(f.path), f.line, f.idiom) for f in findings] == [("models/m.sql", 2, "::varchar")]
    assert main([str(tmp_path)]) == 1


def test_engine_dependent_macros_on_duckdb(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", environ={})
    got = probe_macros(settings)
    for key, expected in MACRO_PROBE_EXPECTED.items():
        assert got[key] == expected, key
    assert len(got["surrogate_key"]) == 32  # md5 hex
    assert got["incremental_strategy"] == "replace_slices"  # macros/incremental.sql
    assert got["lake_hook_sql"] == ""  # DuckDB reads the lake through the sources
    assert warehouse.runs_python_models(settings)
    spark = load_settings(
        data_dir=tmp_path / "data", environ={"ATTRIBUTION__WAREHOUSE__TARGET": "spark"}
    )
    assert not warehouse.runs_python_models(spark)
    assert "--target" in warehouse.dbt_args(spark, ["build"])
    assert warehouse.dbt_env(spark)["ATTRIBUTION_SPARK_DIR"] == str(tmp_path / "data" / "spark")
