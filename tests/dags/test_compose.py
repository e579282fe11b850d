"""``docker-compose.yml`` is valid Compose, complete, and refers only to things that exist.

No Docker engine is needed: the file is validated offline against the Compose spec's JSON
schema (``check-jsonschema --builtin-schema vendor.compose-spec``), then read as YAML.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_file_matches_the_compose_spec_schema():
    cli = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run(
        [str(cli), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_airflow_components_postgres_and_init(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    for name, command in AIRFLOW_SERVICES.items():
        service = services[name]
        assert service["command"] == command, name
        assert "healthcheck" in service, name
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["ATTRIBUTION_DATA_DIR"] == "/data"
        assert service["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        )
        assert "attribution-data:/data" in service["volumes"]
    assert "healthcheck" in services["postgres"]
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert "airflow pools set duckdb_writer 1" in init


def test_everything_referenced_exists(compose):
    services = compose["services"]
    for name, service in services.items():
        for target in service.get("depends_on", {}):
            assert target in services, f"{name} depends on unknown service {target}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        build = service.get("build")
        if build:
            dockerfile = ROOT / build["context"] / build["dockerfile"]
            assert dockerfile.exists()
            for line in dockerfile.read_text(encoding="utf-8").splitlines():
                if line.startswith("COPY "):
                    for source in line.split()[1:-1]:
                        if not source.startswith("--"):
                            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_secrets_come_only_from_the_env_file(compose):
    text = COMPOSE.read_text(encoding="utf-8")
    variables = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    declared = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.M))
    assert variables and variables <= declared, sorted(variables - declared)
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "ATTRIBUTION_PII_SALT"):
        assert f"${{{secret}:?" in text, f"{secret} must be required from .env"
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD$|SECRET$|SALT$|FERNET_KEY$|WEBHOOK_URL$", key):
                assert str(value).startswith("${"), f"{name}: {key} must come from .env"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    assert tracked.strip() == ""
