"""The static HTML KPI report: ``write_report(settings) -> Path``.

Reads the PUBLISHED marts (``settings.paths.published_db``, opened read-only; never the
warehouse) and the last gate result (``state/gate.json``), and writes ONE self-contained
page, ``reports/kpi-report.html``: styles, the vendored Chart.js and the data are all
inside it, so it opens offline; it links only to the Data Docs and dbt docs beside it.

Charts: spend against attributed value per channel; ROAS per channel under every model;
daily CPA and ROAS; the impressions -> clicks -> conversions funnel; platform-reported
against first-party conversions; creative fatigue; LTV:CAC per first channel. A chart whose
mart is not in the publication shows a note saying so instead. A model selector switches
the per-model charts, the totals and the KPI table.
"""

from pipelines.report.writer import REPORT_FILE, write_report

__all__ = ["REPORT_FILE", "write_report"]
