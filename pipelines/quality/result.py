"""The gate's result: ``GateResult`` and ``Failure``, and ``state/gate.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config import Settings

ERROR, WARNING = "error", "warning"


@dataclass
class Failure:
    """One failed expectation on one table.

    ``expectation`` is the expectation type (``expect_spend_matches_lake``);
    ``detail`` one sentence naming the column and what is wrong; ``sample_rows`` a few
    offending rows as dicts.
    """

    expectation: str
    table: str
    severity: str
    detail: str
    sample_rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GateResult:
    run_id: str
    passed: bool
    checked_at: str
    build_id: str | None
    data_dates: list[str]
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    warehouse_fingerprint: dict[str, int] | None = None
    run_date: str | None = None
    tables: list[str] = field(default_factory=list)
    expectations_evaluated: int = 0
    data_docs: str | None = None
    # lake table -> [partitions its row checks validated, partitions it has] (lake_scope)
    lake_partitions: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        data = dict(data)
        data["failures"] = [Failure(**f) for f in data.get("failures") or []]
        data["warnings"] = [Failure(**f) for f in data.get("warnings") or []]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


def gate_path(settings: Settings) -> Path:
    return settings.paths.state / "gate.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_gate(settings: Settings, result: GateResult) -> Path:
    path = gate_path(settings)
    write_json_atomic(path, result.to_dict())
    return path


def read_gate(settings: Settings) -> GateResult | None:
    """The last gate result from ``state/gate.json``, or None if there is none."""
    path = gate_path(settings)
    if not path.exists():
        return None
    try:
        return GateResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, TypeError):
        return None
