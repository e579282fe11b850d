"""``attribution new-source NAME``: scaffold a source folder from ``scaffold_template/``.

The new folder ``pipelines/sources/<name>/`` holds a working minimal CSV parser and writer
for ``ad_delivery``, a sample export with its expected canonical rows, three malformed
samples (``samples/manifest.yml``) and a README listing the quirks to document. The
registry discovers it and the generic contract tests (``tests/sources/test_contracts.py``)
run on it with no other edit.
"""

from __future__ import annotations

import keyword
import re
import shutil
from pathlib import Path

from pipelines.errors import PipelineError

TEMPLATE_DIR = Path(__file__).parent / "scaffold_template"
SOURCES_DIR = Path(__file__).parent / "sources"
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class ScaffoldError(PipelineError):
    """The name is not usable (bad usage, exit 2)."""

    exit_code = 2


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Source"


def new_source(name: str, sources_dir: Path | None = None) -> Path:
    """Create ``<sources_dir>/<name>/`` from the template and return its path."""
    target_root = Path(sources_dir) if sources_dir is not None else SOURCES_DIR
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"source name {name!r} is not snake_case (lower-case letters, digits and single "
            "underscores, starting with a letter, e.g. snapchat_ads); choose another name"
        )
    target = target_root / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or edit that source")
    values = {"{{name}}": name, "{{class_name}}": _class_name(name)}
    staging = target_root / f".{name}.scaffold"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        for tmpl in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
            rel = tmpl.relative_to(TEMPLATE_DIR).with_suffix("")
            text = tmpl.read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace(key, value)
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if target_root.resolve() == SOURCES_DIR.resolve():
        from pipelines.sources import all_sources

        all_sources.cache_clear()
    return target
