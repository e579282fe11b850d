"""Write the report file: ``reports/kpi-report.html``, replaced atomically."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.config import Settings
from pipelines.report.data import collect
from pipelines.report.render import render_html

REPORT_FILE = "kpi-report.html"


def write_report(settings: Settings) -> Path:
    """Write ``reports/kpi-report.html`` from the published marts; return its path.

    Works without a publication too: the page then says nothing is published yet and
    still shows the last gate result. The file is replaced atomically.
    """
    html = render_html(collect(settings))
    out = settings.paths.reports / REPORT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{REPORT_FILE}.tmp-{os.getpid()}")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out
