"""The HTML KPI report: self-contained, faithful to the marts, XSS-safe, and it renders.

The main test opens the written file in headless Chromium (offline: no host name
resolves) and checks from the page's own render status that every chart drew on a
non-empty canvas without a script error; it saves a screenshot and prints its path.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from report_fixtures import (
    HOSTILE,
    MODELS,
    build_marts,
    embedded_data,
    render_in_chromium,
    render_status,
    screenshot,
    write_gate,
)

from pipelines.config import load_settings
from pipelines.report import write_report
from pipelines.report.data import read_gate_state
from pipelines.report.render import json_for_script

ALL_CHARTS = (
    "chart-spend-value",
    "chart-roas-models",
    "chart-daily",
    "chart-funnel",
    "chart-reconciliation",
    "chart-creative",
    "chart-ltv",
)
ALLOWED_LINKS = {"data-docs/index.html", "dbt-docs/index.html"}


class _Refs(HTMLParser):
    """Every URL-bearing attribute and every external-script or stylesheet tag."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.script_srcs: list[str] = []
        self.link_tags: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster") and value is not None:
                self.urls.append((tag, name, value))
        if tag == "script" and dict(attrs).get("src"):
            self.script_srcs.append(dict(attrs)["src"] or "")
        if tag == "link":
            self.link_tags.append(dict(attrs))


@pytest.fixture
def full_report(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    build_marts(settings.paths.published_db, full=True)
    write_gate(settings.paths.state, passed=False)
    return settings, write_report(settings)


def test_report_is_one_self_contained_file(full_report):
    settings, path = full_report
    assert path == settings.paths.reports / "kpi-report.html"
    page = path.read_text(encoding="utf-8")

    refs = _Refs()
    refs.feed(page)
    assert refs.script_srcs == [], "scripts must be inlined, not loaded"
    assert refs.link_tags == [], "styles must be inlined, not linked"
    for tag, attr, url in refs.urls:
        assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, flags=re.I), (tag, attr, url)
        assert url in ALLOWED_LINKS, f"unexpected reference {tag} {attr}={url!r}"
    assert {u for _, _, u in refs.urls} == ALLOWED_LINKS
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page), "no remote CSS resources"
    assert "@import" not in page
    assert "sourceMappingURL" not in page
    # The vendored chart library is inside the page, with its license notice.
    assert "Chart.js v4.6.1" in page
    assert "Released under the MIT License" in page


def test_embedded_data_matches_the_published_marts(full_report):
    settings, path = full_report
    data = embedded_data(path.read_text(encoding="utf-8"))

    assert data["published"] is True
    assert data["currency"] == "USD"
    assert data["default_model"] == "last_touch"
    assert data["models"] == [m for m in settings.attribution.models if m in MODELS]
    assert data["data_dates"] == {"first": "2026-09-01", "last": "2026-09-14"}

    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        expected = dict(
            con.execute(
                """
                select channel, sum(spend) from mart_kpi_daily
                where model = 'markov' and date_basis = 'conversion'
                group by all
                """
            ).fetchall()
        )
        value, spend = con.execute(
            """
            select sum(attributed_value), sum(spend) from mart_kpi_daily
            where model = 'linear' and date_basis = 'conversion' and channel = 'Paid Search'
            """
        ).fetchone()
        platform_reported = con.execute(
            "select sum(platform_conversions) from fct_ad_spend_daily where platform = 'meta_ads'"
        ).fetchone()[0]
    rows = data["charts"]["channel_model"]["rows"]
    markov = {r["channel"]: r["spend"] for r in rows if r["model"] == "markov"}
    assert markov == pytest.approx(expected)
    linear_search = next(
        r for r in rows if r["model"] == "linear" and r["channel"] == "Paid Search"
    )
    assert linear_search["roas"] == pytest.approx(float(value) / float(spend))
    organic = next(r for r in rows if r["channel"] == "Organic Search")
    assert organic["roas"] is None, "no spend: ROAS is undefined, not infinite"

    daily = data["charts"]["daily"]["models"]["last_touch"]
    assert len(daily["dates"]) == 14
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        week_spend, week_conversions, day_spend, day_conversions = con.execute(
            """
            select
                sum(spend) filter (where report_date between '2026-09-04' and '2026-09-10'),
                sum(attributed_conversions)
                    filter (where report_date between '2026-09-04' and '2026-09-10'),
                sum(spend) filter (where report_date = '2026-09-10'),
                sum(attributed_conversions) filter (where report_date = '2026-09-10'),
            from mart_kpi_daily
            where model = 'last_touch' and date_basis = 'conversion'
            """
        ).fetchone()
    i = daily["dates"].index("2026-09-10")
    assert daily["cpa"][i] == pytest.approx(float(day_spend) / float(day_conversions))
    assert daily["cpa_7d"][i] == pytest.approx(float(week_spend) / float(week_conversions))
    rec = data["charts"]["reconciliation"]
    assert rec["source"] == "mart_platform_reconciliation"
    meta = rec["models"]["last_touch"]
    assert meta["reported"][meta["platforms"].index("meta_ads")] == pytest.approx(platform_reported)
    fatigued = {ad["label"] for ad in data["charts"]["creative"]["ads"]}
    assert fatigued == {"Search ad B (google_ads)", "Carousel (meta_ads)"}
    creative = data["charts"]["creative"]["ads"][0]["points"]
    assert [p[0] for p in creative] == list(range(14)), "days since launch from the first day"
    assert data["charts"]["ltv"]["channels"][0] == "Affiliates"
    fresh = {(f["source"], f["what"]): f["latest"] for f in data["freshness"]}
    assert fresh["google_ads", "ad spend"] == "2026-09-14"
    assert fresh["events", "conversions"] == "2026-09-14"
    assert data["gate"]["passed"] is False
    assert data["publication_log"][0]["result"] == "blocked", "newest entry first"


def test_hostile_data_is_escaped_everywhere(full_report, tmp_path):
    _, path = full_report
    page = path.read_text(encoding="utf-8")
    block = re.search(r'id="report-data">(.*?)</script>', page, flags=re.S).group(1)
    assert "</" not in block and "<" not in block
    assert HOSTILE not in page
    assert "<script>alert(1)</script>" not in page  # the publication log's message
    assert "&lt;b&gt;google_ads&lt;/b&gt;" in page  # the gate failure's detail, as text
    assert json_for_script({"x": "</script><!--\u2028"}) == (
        '{"x":"\\u003c/script\\u003e\\u003c!--\\u2028"}'
    )

    dom = render_in_chromium(tmp_path, path)
    assert "<title>KPI report" in dom and "pwned" not in dom.split("</title>")[0]
    # The hostile channel shows as literal text in the KPI table.
    assert "&lt;img src=x onerror=" in dom
    assert "<img src=" not in dom


def test_every_chart_renders_in_headless_chromium(full_report, tmp_path):
    _, path = full_report
    dom = render_in_chromium(tmp_path, path)
    assert 'data-rendered="true"' in dom
    status = render_status(dom)
    assert status["errors"] == []
    assert status["model"] == "last_touch"
    assert set(status["charts"]) == set(ALL_CHARTS)
    for chart_id, chart in status["charts"].items():
        assert chart["status"] == "rendered", (chart_id, chart)
        assert chart["width"] > 200 and chart["height"] > 200, (chart_id, chart)
        assert chart["painted"] > 100, f"{chart_id}: the canvas is blank"
    assert status["rendered"] == len(ALL_CHARTS)
    # Each chart container holds a canvas sized by the library.
    for chart_id in ALL_CHARTS:
        section = re.search(rf'<section[^>]*id="{chart_id}".*?</section>', dom, flags=re.S)
        assert section and re.search(r'<canvas[^>]*width="[1-9]\d*"', section.group(0)), chart_id
    # The KPI table and totals were filled for the default model.
    assert "Paid Search" in dom and "$7.91" in dom

    png = screenshot(tmp_path, path, tmp_path / "kpi-report.png")
    print(f"\nreport screenshot: {png}")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") == 1400
    assert png.stat().st_size > 50_000, "the screenshot is (nearly) empty"


def test_the_address_chooses_the_model(full_report, tmp_path):
    _, path = full_report
    status = render_status(render_in_chromium(tmp_path, path, "#model=markov"))
    assert status["model"] == "markov"
    assert status["errors"] == []
    unknown = render_status(render_in_chromium(tmp_path, path, "#model=nope"))
    assert unknown["model"] == "last_touch"


def test_missing_marts_show_a_note_instead_of_a_chart(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data", environ={"ATTRIBUTION__REPORTING__CURRENCY": "eur"}
    )
    build_marts(settings.paths.published_db, full=False)
    before = hashlib.sha256(settings.paths.published_db.read_bytes()).hexdigest()
    path = write_report(settings)
    after = hashlib.sha256(settings.paths.published_db.read_bytes()).hexdigest()
    assert before == after, "the report must only read the publication"

    data = embedded_data(path.read_text(encoding="utf-8"))
    assert data["currency"] == "EUR"
    assert data["gate"] is None
    assert data["charts"]["creative"] == {
        "available": False,
        "reason": "mart_creative_performance is not available in this publication.",
    }
    assert data["charts"]["ltv"]["available"] is False
    # Without the reconciliation mart, it is derived from the spend and performance facts.
    assert data["charts"]["reconciliation"]["source"].startswith("derived from")

    status = render_status(render_in_chromium(tmp_path, path))
    assert status["errors"] == []
    assert status["charts"]["chart-creative"] == {
        "status": "unavailable",
        "note": "mart_creative_performance is not available in this publication.",
        "width": 0,
        "height": 0,
        "painted": 0,
    }
    assert status["charts"]["chart-ltv"]["status"] == "unavailable"
    assert "mart_customer_ltv" in status["charts"]["chart-ltv"]["note"]
    assert status["rendered"] == len(ALL_CHARTS) - 2
    dom = render_in_chromium(tmp_path, path)
    assert "spend (EUR)" in dom and "€" in dom
    assert "No gate has run yet" in dom


def test_without_a_publication_the_report_says_so(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    write_gate(settings.paths.state, passed=False)
    path = write_report(settings)
    page = path.read_text(encoding="utf-8")
    assert "Nothing is published yet" in page
    assert "blocked" in page and "expect_spend_matches_lake" in page
    status = render_status(render_in_chromium(tmp_path, path))
    assert status["errors"] == []
    assert status["rendered"] == 0
    assert status["unavailable"] == len(ALL_CHARTS)


def test_docs_links_say_whether_the_docs_are_built(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    build_marts(settings.paths.published_db, full=False)
    docs = settings.paths.reports / "data-docs" / "index.html"
    docs.parent.mkdir(parents=True)
    docs.write_text("<html></html>", encoding="utf-8")
    page = write_report(settings).read_text(encoding="utf-8")
    assert '<a href="data-docs/index.html">Data Docs (Great Expectations)</a></li>' in page
    assert (
        '<a href="dbt-docs/index.html">dbt docs (models, lineage)</a> '
        '<span class="muted">(not built yet)</span>'
    ) in page


@pytest.mark.parametrize(
    ("content", "passed", "failures"),
    [
        ('{"passed": true, "run_id": "r1", "failures": []}', True, []),
        (
            '{"passed": false, "failures": [{"expectation": "e", "table": "t", "detail": "d"}]}',
            False,
            ["e on t: d"],
        ),
        ('{"passed": false, "failures": "one string"}', False, ["one string"]),
        ('{"passed": "yes"}', None, []),
        ("[1, 2]", None, []),
        ("{not json", None, []),
    ],
)
def test_gate_state_is_read_defensively(tmp_path, content, passed, failures):
    settings = load_settings(data_dir=tmp_path / "data")
    settings.paths.state.mkdir(parents=True)
    (settings.paths.state / "gate.json").write_text(content, encoding="utf-8")
    gate = read_gate_state(settings)
    assert gate["passed"] is passed
    assert gate.get("failures", []) == failures
    if passed is None and content.startswith(("[", "{not")):
        assert "gate.json" in gate["problem"]


def test_the_vendored_library_is_package_data():
    static = Path(__file__).parents[2] / "pipelines" / "report" / "static"
    assert (static / "chart.umd.min.js").stat().st_size > 100_000
    assert "MIT License" in (static / "chart.js.LICENSE.md").read_text(encoding="utf-8")
    assert "chart.js@4.6.1" in (static / "README.md").read_text(encoding="utf-8")
