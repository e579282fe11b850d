"""The Airflow assets of the pipeline and the registry's source names, cheap at parse time.

Asset names (URIs are logical, independent of where the data dir is mounted):

- ``landing_<source>`` (``attribution://landing/<source>``): files arrived in
  ``landing/<source>/``; watched by ``LandingFileTrigger``; schedules ``ingest_<source>``.
- ``lake_<source>`` (``attribution://lake/<source>``): ``ingest_<source>`` rebuilt lake
  partitions; ``extra = {"source": ..., "dates": ["YYYY-MM-DD", ...]}``.
- ``published_marts`` (``attribution://published/marts``): a new publication of the marts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airflow.sdk import Asset, AssetAll, AssetAny

EVENTS_SOURCE = "events"


def source_names() -> list[str]:
    """The registered sources, like ``pipelines.sources.source_names()``, without imports.

    ``pipelines.sources`` imports the ``Source`` base class and with it pandas and pyarrow,
    which DAG files must not load at parse time; so the folder is located with
    ``find_spec`` (which does not execute the package) and listed with the registry's rule:
    every folder not starting with ``_`` that holds a ``source.py``.
    """
    spec = importlib.util.find_spec("pipelines.sources")
    if spec is None or not spec.submodule_search_locations:
        return []
    names: set[str] = set()
    for location in spec.submodule_search_locations:
        folder = Path(location)
        names.update(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith("_") and (p / "source.py").exists()
        )
    return sorted(names)


def landing_asset(source: str, watchers: list | None = None) -> Asset:
    return Asset(
        name=f"landing_{source}", uri=f"attribution://landing/{source}", watchers=watchers or []
    )


def lake_asset(source: str) -> Asset:
    return Asset(name=f"lake_{source}", uri=f"attribution://lake/{source}")


PUBLISHED_MARTS = Asset(name="published_marts", uri="attribution://published/marts")


def build_schedule(sources: list[str]) -> AssetAll | AssetAny | Asset | None:
    """When the warehouse is rebuilt: new first-party events AND new data of any other source.

    ``lake_events & (lake_google_ads | lake_meta_ads | ...)``, from the registry, so a new
    source joins the condition without an edit. Without an ``events`` source, any lake
    event triggers a build; without sources, there is nothing to schedule on.
    """
    lakes = [lake_asset(s) for s in sources]
    others = [lake_asset(s) for s in sources if s != EVENTS_SOURCE]
    if EVENTS_SOURCE in sources and others:
        return AssetAll(lake_asset(EVENTS_SOURCE), AssetAny(*others))
    if len(lakes) == 1:
        return lakes[0]
    return AssetAny(*lakes) if lakes else None
