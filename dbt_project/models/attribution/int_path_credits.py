"""int_path_credits: Markov and Shapley credit of each touch position of each raw path.

Computed from int_path_outcomes by pipelines.attribution.outcomes (one implementation). A
dbt Python model on DuckDB; on engines without Python models (Spark) pipelines.warehouse
computes the same table with the same function between two dbt invocations and loads it
(tag in_python). Settings come from the vars path_transform and markov_order, set as
configs in _data_driven.yml.
"""

from pipelines.attribution.outcomes import OUTCOME_COLUMNS, path_credits


def model(dbt, session):
    dbt.config(materialized="table")
    # Plain calls: dbt finds the config keys a Python model uses by reading these calls.
    transform = dbt.config.get("path_transform", "exposure")
    order = dbt.config.get("markov_order", 1)
    outcomes = dbt.ref("int_path_outcomes").project(", ".join(OUTCOME_COLUMNS)).df()
    return path_credits(outcomes, transform=transform, order=int(order))
