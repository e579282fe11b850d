"""markov_channel_effects: removal effects and channel totals of the Markov chain.

One row per channel: channel, removal_effect, value_removal_effect, share,
attributed_conversions, attributed_value (attribution-models.md, "Markov chain"), from
int_path_outcomes by pipelines.attribution.outcomes (one implementation). Not an
attribution model (its name does not start with attr_); the published, contract-enforced
mart_markov_channel_effects selects from it (dbt enforces contracts on SQL models only).
A dbt Python model on DuckDB; on Spark pipelines.warehouse computes and loads it (tag
in_python).
"""

from pipelines.attribution.outcomes import OUTCOME_COLUMNS, path_channel_effects


def model(dbt, session):
    dbt.config(materialized="table")
    # Plain calls: dbt finds the config keys a Python model uses by reading these calls.
    transform = dbt.config.get("path_transform", "exposure")
    order = dbt.config.get("markov_order", 1)
    outcomes = dbt.ref("int_path_outcomes").project(", ".join(OUTCOME_COLUMNS)).df()
    return path_channel_effects(outcomes, transform=transform, order=int(order))
