"""A model's meta.uncompressed_columns (macros/column_storage.sql) must name columns it
selects, and cannot come with an enforced contract's constraints (the table it creates
has none): either fails the build with the model named, and leaves no table of the model
behind. (The columns a build stores uncompressed, and compaction keeping them, are tested
in test_warehouse.py.)"""

from __future__ import annotations

import duckdb
import pytest
from tiny_lake import copy_project, write_lake

from pipelines import warehouse
from pipelines.config import load_settings
from pipelines.errors import PipelineError

CONSTRAINED_SQL = """\
{{ config(materialized='table', meta={'uncompressed_columns': ['probe_id']}) }}
select cast('p1' as varchar) as probe_id
"""
CONSTRAINED_YML = """\
version: 2
models:
  - name: probe_constrained
    config:
      contract: {enforced: true}
    columns:
      - name: probe_id
        data_type: varchar
        constraints:
          - type: not_null
"""


def failed_build(tmp_path, project, select) -> str:
    """The build's error message (whitespace collapsed), after checking no table of the
    selected model was left."""
    settings = load_settings(
        data_dir=tmp_path / "data", environ={"ATTRIBUTION_DBT_PROJECT_DIR": str(project)}
    )
    write_lake(settings)
    with pytest.raises(PipelineError) as failed:
        warehouse.build(settings, select=select)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert select.lstrip("+") not in tables
    return " ".join(str(failed.value).split())


def test_a_column_the_model_does_not_select_fails_its_build(tmp_path):
    project = copy_project(tmp_path / "dbt_project")
    model = project / "models" / "intermediate" / "int_identity_map.sql"
    declared = "'uncompressed_columns': ['anonymous_id', 'person_key']"
    assert declared in model.read_text()
    model.write_text(
        model.read_text().replace(declared, "'uncompressed_columns': ['anonymous_id', 'person_id']")
    )
    message = failed_build(tmp_path, project, "+int_identity_map")
    assert (
        "model int_identity_map: uncompressed_columns names person_id, which the model "
        "does not select" in message
    ), message


def test_constraints_of_an_enforced_contract_are_not_dropped_silently(tmp_path):
    project = copy_project(tmp_path / "dbt_project")
    (project / "models" / "marts" / "probe_constrained.sql").write_text(CONSTRAINED_SQL)
    (project / "models" / "marts" / "probe_constrained.yml").write_text(CONSTRAINED_YML)
    message = failed_build(tmp_path, project, "probe_constrained")
    assert (
        "model probe_constrained: uncompressed_columns cannot be combined with the "
        "constraints of its enforced contract" in message
    ), message
