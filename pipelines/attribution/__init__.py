"""The data-driven attribution math, shared by the dbt Python models and the CLI.

- :mod:`~pipelines.attribution.transforms`: path transforms (`exposure`, `unique`, `first`,
  `frequency`, `none`).
- :mod:`~pipelines.attribution.paths`: distinct paths with their outcomes (``PathSet``).
- :mod:`~pipelines.attribution.markov`: exact absorbing Markov chain, removal effects.
- :mod:`~pipelines.attribution.shapley`: path-level Shapley (Google's Fractribution).
- :mod:`~pipelines.attribution.rules`: rule-based channel totals over paths.
- :mod:`~pipelines.attribution.journeys`: touchpoint credits of journeys.
- :mod:`~pipelines.attribution.outcomes`: the same credits from distinct-path outcomes
  aggregated by the warehouse engine (the dbt models on DuckDB and Spark).
- :mod:`~pipelines.attribution.pathfile`: path files (``attribution attribute-paths``).

Definitions: the project's attribution-models reference; every choice left open there is
documented in the module that makes it.
"""

from pipelines.attribution.journeys import (
    attribute_journeys,
    markov_channel_effects,
    markov_journeys,
)
from pipelines.attribution.markov import MarkovResult, markov_attribution
from pipelines.attribution.pathfile import (
    attribute_path_file,
    attribute_paths,
    attribute_paths_command,
    format_table,
    read_path_file,
    write_path_results,
)
from pipelines.attribution.paths import PathSet, pathset_from_records
from pipelines.attribution.shapley import ShapleyResult, shapley_attribution
from pipelines.attribution.transforms import transform_groups, transform_path

__all__ = [
    "MarkovResult",
    "PathSet",
    "ShapleyResult",
    "attribute_journeys",
    "attribute_path_file",
    "attribute_paths",
    "attribute_paths_command",
    "format_table",
    "markov_attribution",
    "markov_channel_effects",
    "markov_journeys",
    "pathset_from_records",
    "read_path_file",
    "shapley_attribution",
    "transform_groups",
    "transform_path",
    "write_path_results",
]
