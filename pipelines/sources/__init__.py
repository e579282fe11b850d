"""The source registry: every folder here with a ``source.py`` exposing ``SOURCE`` is a source.

No central list exists: adding a source is adding a folder (``attribution new-source``).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from pipelines.sources.base import ParseContext, Source

__all__ = ["ParseContext", "Source", "all_sources", "get_source", "source_names"]

_HERE = Path(__file__).parent


@cache
def all_sources() -> dict[str, Source]:
    """Discover the sources: ``pipelines/sources/<name>/source.py`` with ``SOURCE``."""
    found: dict[str, Source] = {}
    for info in sorted(pkgutil.iter_modules([str(_HERE)]), key=lambda i: i.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        if not (_HERE / info.name / "source.py").exists():
            continue
        module = importlib.import_module(f"pipelines.sources.{info.name}.source")
        src = getattr(module, "SOURCE", None)
        if not isinstance(src, Source):
            raise TypeError(
                f"pipelines/sources/{info.name}/source.py must define SOURCE = <Source>"
            )
        if src.name != info.name:
            raise TypeError(
                f"pipelines/sources/{info.name}: SOURCE.name is {src.name!r}; "
                "it must equal the folder name"
            )
        found[src.name] = src
    return found


def source_names() -> list[str]:
    """Source names without importing the parsers (cheap: used at DAG parse time)."""
    return sorted(
        p.name
        for p in _HERE.iterdir()
        if p.is_dir() and not p.name.startswith("_") and (p / "source.py").exists()
    )


def get_source(name: str) -> Source:
    try:
        return all_sources()[name]
    except KeyError:
        raise KeyError(
            f"unknown source {name!r}; known sources: {', '.join(source_names())}"
        ) from None
