"""attr_markov: exact first-order (or order-k) Markov-chain attribution per touchpoint.

Credit of touch i = RE(channel_i) / sum of RE over the conversion's touches (last touch if
that sum is 0); value_credit uses the value removal effects. The math lives in
pipelines.attribution (one implementation for dbt, the CLI and the tests). Settings come
from the vars path_transform and markov_order, set as configs in _data_driven.yml.
"""

from pipelines.attribution.journeys import JOURNEY_COLUMNS, attribute_journeys


def model(dbt, session):
    dbt.config(materialized="table", tags=["attribution"])
    # Plain calls: dbt finds the config keys a Python model uses by reading these calls.
    transform = dbt.config.get("path_transform", "exposure")
    order = dbt.config.get("markov_order", 1)
    journeys = dbt.ref("int_journeys").project(", ".join(JOURNEY_COLUMNS)).df()
    return attribute_journeys(journeys, model="markov", transform=transform, order=int(order))
