"""Turn the report's data into ONE self-contained HTML page.

The page inlines its styles, the vendored chart library (``static/chart.umd.min.js``,
Chart.js; see ``static/README.md``) and its own script, and embeds the data as JSON in a
``<script type="application/json">`` block, so it opens offline from any folder. The only
links are relative ones to the Data Docs and dbt docs written beside it.

Escaping: every value placed in HTML goes through ``html.escape``; the JSON block has
``<``, ``>`` and ``&`` written as ``\\u003c`` etc. (so no ``</script>`` can end it), and
the page's script puts data into the page with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
DATA_DOCS_HREF = "data-docs/index.html"
DBT_DOCS_HREF = "dbt-docs/index.html"

# (element id, title, explanation) of each chart, in page order.
CHARTS = (
    (
        "chart-spend-value",
        "Spend and attributed value per channel",
        "Ad spend against the conversion value the selected model credits to each channel.",
    ),
    (
        "chart-roas-models",
        "ROAS per channel under every model",
        "Attributed value ÷ spend, one bar per attribution model; channels without spend "
        "have no ROAS.",
    ),
    (
        "chart-daily",
        "CPA and ROAS per day",
        "Ratios of sums for the selected model by conversion date: trailing 7 days (bold) "
        "and each day (dashed).",
    ),
    (
        "chart-funnel",
        "Funnel: impressions → clicks → conversions",
        "Conversions credited to paid channels by the selected model (logarithmic axis).",
    ),
    (
        "chart-reconciliation",
        "Platform-reported vs first-party conversions",
        "What each ad platform claims against what the selected model credits to it.",
    ),
    (
        "chart-creative",
        "Creative fatigue",
        "CTR by days since launch for the ads flagged as fatigued.",
    ),
    (
        "chart-ltv",
        "LTV:CAC per first channel",
        "Customer-weighted LTV:CAC of each acquisition channel.",
    ),
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def json_for_script(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def inline_script(source: str) -> str:
    """A script's text made safe to inline: no closing tag or source-map fetch inside."""
    source = re.sub(r"^//# sourceMappingURL=.*$", "", source, flags=re.MULTILINE)
    source = re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)
    return source.replace("<!--", "<\\!--")


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _gate_card(gate: dict[str, Any] | None) -> str:
    if gate is None:
        return (
            '<div class="card"><h3>Last quality gate</h3>'
            '<p class="muted">No gate has run yet (no <code>state/gate.json</code>).</p></div>'
        )
    passed = gate.get("passed")
    badge = (
        '<span class="badge ok">passed</span>'
        if passed is True
        else '<span class="badge bad">blocked</span>'
        if passed is False
        else '<span class="badge warn">unknown</span>'
    )
    lines = [f'<div class="card" id="gate"><h3>Last quality gate {badge}</h3><dl>']
    for label, key in (("checked", "checked_at"), ("run", "run_id"), ("build", "build_id")):
        if gate.get(key):
            lines.append(f"<dt>{label}</dt><dd><code>{_e(gate[key])}</code></dd>")
    if gate.get("problem"):
        lines.append(f"<dt>problem</dt><dd>{_e(gate['problem'])}</dd>")
    lines.append("</dl>")
    failures = gate.get("failures") or []
    if failures:
        more = gate.get("failure_count", len(failures)) - len(failures)
        lines.append('<ul class="failures">')
        lines += [f"<li>{_e(f)}</li>" for f in failures]
        if more > 0:
            lines.append(f"<li>… and {more} more (see the Data Docs)</li>")
        lines.append("</ul>")
    elif passed is True:
        warnings = gate.get("warning_count")
        note = f"No failed expectations{f'; {warnings} warning(s)' if warnings else ''}."
        lines.append(f'<p class="muted">{_e(note)}</p>')
    lines.append("</div>")
    return "".join(lines)


def _publication_card(payload: dict[str, Any]) -> str:
    log = payload.get("publication_log") or []
    published = next((r for r in log if r.get("result") == "published"), None)
    dates = payload.get("data_dates") or {}
    span = (
        f"{_e(dates.get('first'))} → {_e(dates.get('last'))}"
        if dates.get("first")
        else '<span class="muted">no data</span>'
    )
    rows = [f"<dt>data dates</dt><dd>{span}</dd>"]
    if published:
        for label, key in (("version", "version"), ("published", "attempted_at")):
            if published.get(key):
                rows.append(f"<dt>{label}</dt><dd><code>{_e(published[key])}</code></dd>")
    elif not payload.get("published"):
        rows.append(f"<dt>status</dt><dd>{_e(payload.get('reason'))}</dd>")
    return f'<div class="card" id="publication"><h3>Publication</h3><dl>{"".join(rows)}</dl></div>'


def _links_card(payload: dict[str, Any]) -> str:
    links = payload.get("links") or {}
    items = []
    for href, label, key in (
        (DATA_DOCS_HREF, "Data Docs (Great Expectations)", "data_docs"),
        (DBT_DOCS_HREF, "dbt docs (models, lineage)", "dbt_docs"),
    ):
        missing = "" if links.get(key) else ' <span class="muted">(not built yet)</span>'
        items.append(f'<li><a href="{href}">{label}</a>{missing}</li>')
    tables = ", ".join(f"<code>{_e(t)}</code>" for t in payload.get("tables") or []) or "none"
    return (
        '<div class="card" id="links"><h3>Documentation</h3>'
        f'<ul class="links">{"".join(items)}</ul>'
        f'<p class="muted small">Tables in this publication: {tables}</p></div>'
    )


def _freshness_table(payload: dict[str, Any]) -> str:
    rows = payload.get("freshness") or []
    if not rows:
        return '<p class="muted">No source data in this publication.</p>'
    body = []
    for r in rows:
        lag = r.get("lag_days")
        cls = "" if not lag else ' class="stale"'
        lag_text = "latest" if lag == 0 else (f"{lag} day(s) behind" if lag else "–")
        body.append(
            f"<tr{cls}><td>{_e(r.get('source'))}</td><td>{_e(r.get('what'))}</td>"
            f"<td>{_e(r.get('latest'))}</td><td class='num'>{_e(r.get('days'))}</td>"
            f"<td>{_e(lag_text)}</td></tr>"
        )
    return (
        '<table class="data" id="freshness"><thead><tr><th>source</th><th>data</th>'
        "<th>latest day</th><th class='num'>days</th><th>freshness</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _log_table(payload: dict[str, Any]) -> str:
    log = payload.get("publication_log") or []
    if not log:
        return '<p class="muted">No publication log in this publication.</p>'
    preferred = ("attempted_at", "stage", "result", "run_id", "version", "data_dates", "message")
    cols = [c for c in preferred if c in log[0]] or list(log[0])
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for r in log:
        cls = f' class="result-{_e(r.get("result"))}"' if r.get("result") else ""
        cells = "".join(f"<td>{_e(_short(r.get(c)))}</td>" for c in cols)
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<table class="data" id="publication-log"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _short(value: Any, limit: int = 80) -> Any:
    text = "" if value is None else str(value)
    if "," in text and len(text) > limit:  # long data-date lists: first .. last (n)
        parts = [p for p in text.split(",") if p]
        return f"{parts[0]} … {parts[-1]} ({len(parts)} days)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chart_sections() -> str:
    out = []
    for element_id, title, help_text in CHARTS:
        out.append(
            f'<section class="card chart-card" id="{element_id}" data-chart="{element_id}">'
            f"<h2>{_e(title)}</h2><p class='muted small'>{_e(help_text)}</p>"
            '<div class="chart-box"><canvas></canvas></div>'
            '<p class="note" hidden></p></section>'
        )
    return "".join(out)


def render_html(payload: dict[str, Any]) -> str:
    """The whole page for ``payload`` (from ``pipelines.report.data.collect``)."""
    library = inline_script(_static("chart.umd.min.js"))
    script = inline_script(_static("report.js"))
    currency = _e(payload.get("currency"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>KPI report — marketing attribution</title>
<style>
{_static("report.css")}
</style>
</head>
<body>
<header class="page-header">
  <div>
    <h1>Marketing attribution — KPI report</h1>
    <p class="muted">Generated {_e(payload.get("generated_at"))} from the published marts.
    Money in <strong>{currency}</strong>.</p>
  </div>
  <div class="controls">
    <label for="model-select">Attribution model</label>
    <select id="model-select" disabled></select>
  </div>
</header>
<main>
<noscript><p class="note">The charts need JavaScript; the tables below work without it.</p>
</noscript>
<div class="cards">
{_publication_card(payload)}
{_gate_card(payload.get("gate"))}
{_links_card(payload)}
</div>
<section class="card" id="totals-card">
  <h2>Totals for the selected model</h2>
  <div class="totals" id="totals"></div>
</section>
<div class="grid">
{_chart_sections()}
</div>
<section class="card" id="kpi-card">
  <h2>KPIs per channel — <span id="kpi-model"></span></h2>
  <p class="muted small">CPA = spend ÷ attributed conversions (all conversion types);
  ROAS = attributed value ÷ spend; ratios of sums over the whole period, by conversion date.</p>
  <div class="table-wrap"><table class="data" id="kpi-table"></table></div>
</section>
<div class="grid">
<section class="card"><h2>Freshness per source</h2>
<p class="muted small">Latest day in the published marts per source; “behind” counts days
before the newest source.</p>
{_freshness_table(payload)}</section>
<section class="card"><h2>Publication log</h2>
<p class="muted small">The latest attempts to gate and publish (newest first).</p>
<div class="table-wrap">{_log_table(payload)}</div></section>
</div>
</main>
<footer class="muted small">Charts drawn with Chart.js (MIT license), embedded in this file.
</footer>
<pre id="render-status" hidden></pre>
<script type="application/json" id="report-data">{json_for_script(payload)}</script>
<script>
window.__reportErrors = [];
window.addEventListener("error", function (e) {{
    window.__reportErrors.push(String(e.message || e.type));
}});
</script>
<script>
{library}
</script>
<script>
{script}
</script>
</body>
</html>
"""
