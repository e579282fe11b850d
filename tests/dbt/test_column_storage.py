"""A model's meta.uncompressed_columns (macros/column_storage.sql) must name columns it
selects: a wrong name fails the build with the model and the column named, and leaves
no table of the model behind. (The columns a build stores uncompressed, and compaction
keeping them, are tested in test_warehouse.py.)"""

from __future__ import annotations

import duckdb
import pytest
from tiny_lake import copy_project, write_lake

from pipelines import warehouse
from pipelines.config import load_settings
from pipelines.errors import PipelineError


def test_a_column_the_model_does_not_select_fails_its_build(tmp_path):
    project = copy_project(tmp_path / "dbt_project")
    model = project / "models" / "intermediate" / "int_identity_map.sql"
    declared = "'uncompressed_columns': ['anonymous_id', 'person_key']"
    assert declared in model.read_text()
    model.write_text(
        model.read_text().replace(declared, "'uncompressed_columns': ['anonymous_id', 'person_id']")
    )
    settings = load_settings(
        data_dir=tmp_path / "data", environ={"ATTRIBUTION_DBT_PROJECT_DIR": str(project)}
    )
    write_lake(settings)
    with pytest.raises(PipelineError) as failed:
        warehouse.build(settings, select="+int_identity_map")
    message = " ".join(str(failed.value).split())
    assert (
        "model int_identity_map: uncompressed_columns names person_id, which the model "
        "does not select" in message
    ), message
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables()").fetchall()
    assert ("int_identity_map",) not in tables
