"""attr_shapley: path-level Shapley attribution (Google's Fractribution) per touchpoint.

Each position of the transformed path gets m_i / sum(m) (m_i = max(P(p) - P(p without i),
0)); a position's credit is split equally over the touchpoints it stands for.
value_credit = credit. The math lives in pipelines.attribution. The path transform comes
from the var path_transform, set as a config in _data_driven.yml.
"""

from pipelines.attribution.journeys import JOURNEY_COLUMNS, attribute_journeys


def model(dbt, session):
    dbt.config(materialized="table", tags=["attribution"])
    transform = dbt.config.get("path_transform", "exposure")
    journeys = dbt.ref("int_journeys").project(", ".join(JOURNEY_COLUMNS)).df()
    return attribute_journeys(journeys, model="shapley", transform=transform)
