"""One settings object: ``attribution.yml`` plus environment overrides.

This is the only module that resolves paths. Everything else asks the settings for a
path (``settings.paths.lake``) instead of joining strings of its own.

Precedence, lowest first: built-in defaults, the YAML file, ``ATTRIBUTION__SECTION__KEY``
environment variables, ``ATTRIBUTION_DATA_DIR``, explicit arguments (the CLI's
``--data-dir``).

The dbt project is ``dbt_project/`` next to this package unless ``ATTRIBUTION_DBT_PROJECT_DIR``
(or the ``dbt_project_dir`` argument) names another copy of it, e.g. a team's own fork with
extra attribution models: ``settings.dbt_project_dir``.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "attribution.yml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
ENV_PREFIX = "ATTRIBUTION__"

RULE_BASED_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
)
DATA_DRIVEN_MODELS = ("markov", "shapley")
PATH_TRANSFORMS = ("exposure", "unique", "first", "frequency", "none")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and what to do."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reporting(_Model):
    currency: str = "USD"
    timezone: str = "UTC"

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"reporting.currency must be a 3-letter ISO code, got {v!r}")
        return v.upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"reporting.timezone {v!r} is not an IANA time zone") from exc
        return v


class PositionBased(_Model):
    first_weight: float = 0.4
    last_weight: float = 0.4


class TimeDecay(_Model):
    half_life_days: float = 7.0


class Attribution(_Model):
    lookback_days: int = Field(30, ge=1)
    session_timeout_minutes: int = Field(30, ge=1)
    reuse_touches: bool = False
    models: tuple[str, ...] = RULE_BASED_MODELS + DATA_DRIVEN_MODELS
    position_based: PositionBased = PositionBased()
    time_decay: TimeDecay = TimeDecay()
    path_transform: str = "exposure"
    markov_order: int = Field(1, ge=1, le=4)
    view_through: bool = False
    view_through_events: tuple[str, ...] = ("Ad Impression", "Impression")

    @field_validator("models")
    @classmethod
    def _known_models(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = set(RULE_BASED_MODELS + DATA_DRIVEN_MODELS)
        # Models added by analysts as dbt files are allowed too; only reject obvious typos
        # of names that are not valid identifiers.
        for m in v:
            if not m.isidentifier():
                raise ValueError(f"attribution.models: {m!r} is not a model name")
        if not v:
            raise ValueError(f"attribution.models is empty; list some of {sorted(known)}")
        return tuple(v)

    @field_validator("path_transform")
    @classmethod
    def _known_transform(cls, v: str) -> str:
        if v not in PATH_TRANSFORMS:
            raise ValueError(f"attribution.path_transform must be one of {PATH_TRANSFORMS}")
        return v


class ConversionType(_Model):
    events: tuple[str, ...]
    kpi: str = "cpa"
    has_value: bool = False


class Refunds(_Model):
    events: tuple[str, ...] = ("Order Refunded", "Order Cancelled")
    reduce_value: bool = True


class Privacy(_Model):
    salt_env: str = "ATTRIBUTION_PII_SALT"
    allow_unsalted_dev: bool = False


class Quality(_Model):
    freshness_max_lag_days: int = 2
    volume_window_days: int = 28
    volume_seasonality: Literal["weekday", "none"] = "weekday"
    volume_min_baseline_rows: int = 5
    volume_min_baseline_spend: float = 20.0
    volume_min_ratio: float = 0.2
    volume_max_ratio: float = 5.0
    roas_max: float = 100.0
    cpa_max: float = 10000.0
    gate_part_rows: int = Field(1_000_000, ge=1)


class Publish(_Model):
    keep_versions: int = Field(7, ge=1)
    duckdb_storage_version: str = "v1.4.0"


class DuckDBSettings(_Model):
    threads: int = Field(2, ge=1)
    memory_limit: str = "3GB"
    temp_directory: str | None = None


class Warehouse(_Model):
    """Which dbt target builds the warehouse (dbt_project/profiles.yml): ``duckdb`` (the
    default, embedded) or ``spark`` (dbt-spark in-process; run inside .venv-spark)."""

    target: str = "duckdb"
    # dbt unit tests check the SQL on fixed inputs, not the data: `make test` runs them
    # (build(..., unit_tests=True)); a nightly build leaves them out, as dbt advises.
    unit_tests: bool = False
    # How many dbt nodes run at once (dbt's `threads`). Each query shares the DuckDB
    # instance's duckdb.threads and duckdb.memory_limit; two let one node's Python work
    # (compiling, logging, Python models) and the independent branches of the graph
    # overlap another's query. The Spark target keeps its own (profiles.yml).
    threads: int = Field(2, ge=1)
    # After a build, a table whose deleted rows pass this share of what it stores is
    # rewritten without them (warehouse.compact; DuckDB target only). Tables storing fewer
    # than compact_min_rows rows are never worth the rewrite.
    compact_dead_share: float = Field(0.2, gt=0, le=1)
    compact_min_rows: int = Field(100_000, ge=0)

    @field_validator("target")
    @classmethod
    def _target_name(cls, v: str) -> str:
        if not v.isidentifier():
            raise ValueError(f"warehouse.target {v!r} is not a dbt target name of profiles.yml")
        return v


class Creative(_Model):
    fatigue_drop: float = Field(0.30, gt=0, lt=1)
    fatigue_min_impressions: int = 1000


class Target(_Model):
    channel: str | None = None
    platform: str | None = None
    campaign_id: str | None = None
    target_cpa: float | None = None
    target_roas: float | None = None
    daily_budget: float | None = None


class SettingsModel(_Model):
    data_dir: str = "./data"
    reporting: Reporting = Reporting()
    attribution: Attribution = Attribution()
    conversion_types: dict[str, ConversionType] = Field(
        default_factory=lambda: {
            "purchase": ConversionType(events=("Order Completed",), kpi="cps", has_value=True)
        }
    )
    refunds: Refunds = Refunds()
    # Per-source options (free-form: each source documents its own keys in its README).
    sources: dict[str, Any] = Field(default_factory=dict)
    privacy: Privacy = Privacy()
    quality: Quality = Quality()
    publish: Publish = Publish()
    duckdb: DuckDBSettings = DuckDBSettings()
    warehouse: Warehouse = Warehouse()
    creative: Creative = Creative()
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Paths:
    """Every folder and file under the data dir (see DESIGN: folders under the data dir)."""

    data_dir: Path

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    @property
    def lake_raw(self) -> Path:
        return self.lake / "raw"

    @property
    def ledger(self) -> Path:
        return self.lake / "_ledger.sqlite"

    @property
    def quarantine(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.data_dir / "published"

    @property
    def published_db(self) -> Path:
        return self.published / "marts.duckdb"

    @property
    def published_parquet(self) -> Path:
        return self.published / "parquet"

    @property
    def published_versions(self) -> Path:
        return self.published / "versions"

    @property
    def reports(self) -> Path:
        return self.data_dir / "reports"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def state(self) -> Path:
        """Run state: the last gate result, the publication log's working copy."""
        return self.data_dir / "state"

    @property
    def tmp(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def spark(self) -> Path:
        """The Spark target's catalog: table files (``warehouse/``) and Derby metastore."""
        return self.data_dir / "spark"


class Settings:
    """The resolved settings: the validated model plus resolved paths."""

    def __init__(
        self,
        model: SettingsModel,
        config_file: Path | None,
        data_dir: Path,
        dbt_project_dir: Path = DBT_PROJECT_DIR,
    ):
        self.model = model
        self.config_file = config_file
        self.paths = Paths(data_dir)
        self.dbt_project_dir = dbt_project_dir

    # Convenience accessors, so callers write settings.attribution.lookback_days.
    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    @property
    def data_dir(self) -> Path:  # type: ignore[override]
        return self.paths.data_dir

    @property
    def pii_salt(self) -> str | None:
        return os.environ.get(self.model.privacy.salt_env) or None

    def source_options(self, source: str) -> dict[str, Any]:
        opts = self.model.sources.get(source) or {}
        return dict(opts) if isinstance(opts, dict) else {}

    @property
    def restatement_window_days(self) -> int:
        return int(self.model.sources.get("restatement_window_days", 30))

    @cached_property
    def duckdb_temp_directory(self) -> Path:
        t = self.model.duckdb.temp_directory
        return Path(t) if t else self.paths.tmp / "duckdb"

    def duckdb_config(self) -> dict[str, Any]:
        """DuckDB connection settings (threads, memory limit, spill directory)."""
        return {
            "threads": self.model.duckdb.threads,
            "memory_limit": self.model.duckdb.memory_limit,
            "temp_directory": str(self.duckdb_temp_directory),
        }

    def duckdb_connect_config(self) -> dict[str, Any]:
        """``duckdb_config`` as ``duckdb.connect(config=...)`` takes it (unset values left
        to DuckDB), its spill directory created."""
        self.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
        return {k: v for k, v in self.duckdb_config().items() if v is not None}

    def dbt_vars(self) -> dict[str, Any]:
        """Everything dbt needs, handed over as ``--vars`` (dbt_project.yml holds no copy)."""
        a = self.model.attribution
        from pipelines.lake import EMPTY_SOURCE

        return {
            "lake_dir": str(self.paths.lake_raw),
            "lake_placeholder_source": EMPTY_SOURCE,
            "reporting_currency": self.model.reporting.currency,
            "reporting_timezone": self.model.reporting.timezone,
            "lookback_days": a.lookback_days,
            "session_timeout_minutes": a.session_timeout_minutes,
            "reuse_touches": a.reuse_touches,
            "attribution_models": list(a.models),
            "position_based_first_weight": a.position_based.first_weight,
            "position_based_last_weight": a.position_based.last_weight,
            "time_decay_half_life_days": a.time_decay.half_life_days,
            "path_transform": a.path_transform,
            "markov_order": a.markov_order,
            "view_through": a.view_through,
            "view_through_events": list(a.view_through_events),
            "conversion_types": {
                name: {"events": list(ct.events), "kpi": ct.kpi, "has_value": ct.has_value}
                for name, ct in self.model.conversion_types.items()
            },
            "refund_events": list(self.model.refunds.events),
            "refunds_reduce_value": self.model.refunds.reduce_value,
            "restatement_window_days": self.restatement_window_days,
            "fatigue_drop": self.model.creative.fatigue_drop,
            "fatigue_min_impressions": self.model.creative.fatigue_min_impressions,
            "targets": [t.model_dump(exclude_none=True) for t in self.model.targets],
            # Warehouse rules without a settings key of their own (dbt_project/ README):
            # days a currency rate is carried forward over gaps (weekends, holidays), and
            # the event types whose activity opens sessions (touchpoints).
            "fx_max_fill_days": 4,
            "session_event_types": ["page", "screen"],
            # KPI marts (dbt_project/macros/kpi.sql): the model of the single-model marts
            # (creative performance, target pacing), the built-in models that get their
            # own columns in mart_model_comparison, the significance level of the
            # creative z-tests, and the +/- share of the month-to-date budget that is
            # still 'on_track'.
            "default_attribution_model": (
                "last_touch" if "last_touch" in a.models else a.models[0]
            ),
            "comparison_models": [*RULE_BASED_MODELS, *DATA_DRIVEN_MODELS],
            "creative_test_alpha": 0.05,
            "pacing_tolerance": 0.10,
        }


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    over: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        node = over
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(raw) if raw != "" else None
    return over


def load_settings(
    config_file: str | Path | None = None,
    data_dir: str | Path | None = None,
    environ: dict[str, str] | None = None,
    dbt_project_dir: str | Path | None = None,
) -> Settings:
    """Load and validate the settings.

    ``config_file`` defaults to ``$ATTRIBUTION_CONFIG`` then ``attribution.yml`` at the
    project root; ``data_dir`` defaults to ``$ATTRIBUTION_DATA_DIR`` then the file's
    ``data_dir`` (relative to the file's folder); ``dbt_project_dir`` defaults to
    ``$ATTRIBUTION_DBT_PROJECT_DIR`` then the project's own ``dbt_project/``.
    """
    env = dict(os.environ if environ is None else environ)
    path = Path(config_file or env.get("ATTRIBUTION_CONFIG") or DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc}); fix the file.") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings.")
    elif config_file is not None:
        raise ConfigError(f"{path}: config file not found; pass an existing --config file.")
    raw = _deep_merge(raw, _env_overrides(env))
    try:
        model = SettingsModel.model_validate(raw)
    except Exception as exc:  # pydantic.ValidationError; keep the message readable
        raise ConfigError(f"{path}: invalid settings: {exc}") from exc

    base = path.parent if path.exists() else Path.cwd()
    chosen = data_dir or env.get("ATTRIBUTION_DATA_DIR") or model.data_dir
    resolved = Path(chosen)
    if not resolved.is_absolute():
        resolved = (
            Path.cwd() if (data_dir or env.get("ATTRIBUTION_DATA_DIR")) else base
        ) / resolved
    chosen_project = dbt_project_dir or env.get("ATTRIBUTION_DBT_PROJECT_DIR")
    project = Path(chosen_project or DBT_PROJECT_DIR)
    project = project if project.is_absolute() else Path.cwd() / project
    # Only a project named explicitly is checked here; the default one is checked by the
    # steps that run dbt (settings are also loaded where no dbt project is needed).
    if chosen_project and not (project / "dbt_project.yml").is_file():
        raise ConfigError(
            f"{project}: no dbt_project.yml there; point ATTRIBUTION_DBT_PROJECT_DIR at a copy "
            "of the project's dbt_project/ folder."
        )
    return Settings(model, path if path.exists() else None, resolved.resolve(), project.resolve())
