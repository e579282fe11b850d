"""``new_source`` makes a folder the registry finds and the contract tests pass on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.scaffold import ScaffoldError, new_source

ROOT = Path(__file__).resolve().parent.parent


def test_invalid_or_existing_names_are_refused(tmp_path):
    for bad in ("Acme", "acme-ads", "1acme", "acme__ads", "class", ""):
        with pytest.raises(ScaffoldError, match="snake_case"):
            new_source(bad, sources_dir=tmp_path)
    new_source("acme_ads", sources_dir=tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        new_source("acme_ads", sources_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme_ads"]


def test_new_source_is_discovered_and_passes_the_contract_tests(tmp_path):
    pkg_root = tmp_path / "copy"
    shutil.copytree(
        ROOT / "pipelines",
        pkg_root / "pipelines",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "attribution.yml", pkg_root / "attribution.yml")
    env = {**os.environ, "PYTHONPATH": str(pkg_root), "PYTHONDONTWRITEBYTECODE": "1"}
    script = (
        "import pipelines, sys\n"
        f"assert pipelines.__file__.startswith({str(pkg_root)!r}), pipelines.__file__\n"
        "from pipelines.scaffold import new_source\n"
        "from pipelines.sources import all_sources\n"
        "path = new_source('acme_ads')\n"
        "assert 'acme_ads' in all_sources(), sorted(all_sources())\n"
        "print(path)\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", script], cwd=pkg_root, env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert (pkg_root / "pipelines" / "sources" / "acme_ads" / "samples" / "manifest.yml").exists()

    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "tests" / "sources" / "test_contracts.py"),
            "-k",
            "acme_ads",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
        ],
        cwd=pkg_root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    # folder, good case, 3 malformed x 2, 1 round trip, re-ingest, restatement
    assert "11 passed" in tests.stdout.splitlines()[-1], tests.stdout[-1000:]
