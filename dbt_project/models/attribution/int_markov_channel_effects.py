"""markov_channel_effects: removal effects and channel totals of the Markov chain.

One row per channel: channel, removal_effect, value_removal_effect, share,
attributed_conversions, attributed_value (attribution-models.md, "Markov chain"). Not an
attribution model (its name does not start with attr_); the published, contract-enforced
mart_markov_channel_effects selects from it (dbt enforces contracts on SQL models only).
"""

from pipelines.attribution.journeys import JOURNEY_COLUMNS, markov_channel_effects


def model(dbt, session):
    dbt.config(materialized="table")
    # Plain calls: dbt finds the config keys a Python model uses by reading these calls.
    transform = dbt.config.get("path_transform", "exposure")
    order = dbt.config.get("markov_order", 1)
    journeys = dbt.ref("int_journeys").project(", ".join(JOURNEY_COLUMNS)).df()
    return markov_channel_effects(journeys, transform=transform, order=int(order))
