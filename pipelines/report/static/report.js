/* KPI report: draws the charts from the embedded JSON (id "report-data") with Chart.js.
 *
 * Data only ever enters the page through textContent or Chart.js's canvas, never as HTML.
 * When done, a JSON summary is written to <pre id="render-status"> (charts rendered,
 * unavailable, failed, canvas sizes, painted pixels, script errors) and the <html>
 * element gets data-rendered="true": the tests read both from a headless browser.
 */
(function () {
    "use strict";

    var errors = window.__reportErrors || [];
    var status = { charts: {}, errors: errors, rendered: 0, unavailable: 0, failed: 0 };
    var PALETTE = [
        "#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6",
        "#06b6d4", "#ec4899", "#84cc16", "#64748b", "#a16207",
    ];
    var SPEND_COLOR = "#94a3b8";
    var VALUE_COLOR = "#10b981";
    var instances = {};

    var data = JSON.parse(document.getElementById("report-data").textContent);
    var charts = data.charts || {};
    var currency = data.currency || "USD";
    var select = document.getElementById("model-select");

    function moneyFormat(digits) {
        try {
            return new Intl.NumberFormat("en-US", {
                style: "currency", currency: currency,
                minimumFractionDigits: digits, maximumFractionDigits: digits,
            });
        } catch (e) {
            return { format: function (v) { return currency + " " + v.toFixed(digits); } };
        }
    }
    var money0 = moneyFormat(0);
    var money2 = moneyFormat(2);
    var num0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
    var num1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

    function fmt(v, kind) {
        if (v === null || v === undefined || !isFinite(v)) { return "–"; }
        if (kind === "money") { return money0.format(v); }
        if (kind === "money2") { return money2.format(v); }
        if (kind === "ratio") { return v.toFixed(2) + "×"; }
        if (kind === "pct") { return (100 * v).toFixed(2) + "%"; }
        if (kind === "int") { return num0.format(v); }
        return num1.format(v);
    }

    function color(i) { return PALETTE[i % PALETTE.length]; }

    function ratio(n, d) { return d ? n / d : null; }

    function section(id) { return document.getElementById(id); }

    function setNote(id, text, isError) {
        var s = section(id);
        var note = s.querySelector(".note");
        note.textContent = text;
        note.hidden = false;
        note.className = isError ? "note error" : "note";
        s.classList.add("unavailable");
    }

    function clearNote(id) {
        var s = section(id);
        var note = s.querySelector(".note");
        note.hidden = true;
        note.textContent = "";
        s.classList.remove("unavailable");
    }

    function draw(id, config) {
        if (instances[id]) { instances[id].destroy(); }
        var canvas = section(id).querySelector("canvas");
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", section(id).querySelector("h2").textContent);
        instances[id] = new Chart(canvas, config);
    }

    /* A category axis whose long labels (channel names) are shortened on the chart. */
    function categoryAxis(extra) {
        var axis = {
            ticks: {
                callback: function (v) {
                    var label = String(this.getLabelForValue(v));
                    return label.length > 24 ? label.slice(0, 23) + "…" : label;
                },
            },
        };
        return Object.assign(axis, extra || {});
    }

    function moneyAxis(title) {
        return {
            beginAtZero: true,
            title: { display: !!title, text: title },
            ticks: { callback: function (v) { return fmt(v, "money"); } },
        };
    }

    function tooltip(kind) {
        return {
            callbacks: {
                label: function (ctx) {
                    var v = ctx.parsed.y !== undefined && ctx.chart.options.indexAxis !== "y"
                        ? ctx.parsed.y : ctx.parsed.x;
                    var k = typeof kind === "function" ? kind(ctx) : kind;
                    return ctx.dataset.label + ": " + fmt(v, k);
                },
            },
        };
    }

    function modelRows(model) {
        var cm = charts.channel_model;
        return cm.rows.filter(function (r) { return r.model === model; });
    }

    /* Each chart: whether it follows the model selector, the data it needs, how to draw. */
    var CHARTS = [
        {
            id: "chart-spend-value", key: "channel_model", perModel: true,
            render: function (model) {
                var rows = modelRows(model);
                draw(this.id, {
                    type: "bar",
                    data: {
                        labels: rows.map(function (r) { return r.channel; }),
                        datasets: [
                            { label: "Spend", data: rows.map(function (r) { return r.spend; }),
                              backgroundColor: SPEND_COLOR },
                            { label: "Attributed value (" + model + ")",
                              data: rows.map(function (r) { return r.value; }),
                              backgroundColor: VALUE_COLOR },
                        ],
                    },
                    options: {
                        scales: { x: categoryAxis(), y: moneyAxis(currency) },
                        plugins: { tooltip: tooltip("money") },
                    },
                });
            },
        },
        {
            id: "chart-roas-models", key: "channel_model", perModel: false,
            render: function () {
                var cm = charts.channel_model;
                var spent = {};
                cm.rows.forEach(function (r) { if (r.spend > 0) { spent[r.channel] = true; } });
                var channels = cm.channels.filter(function (c) { return spent[c]; });
                if (!channels.length) {
                    throw new Error("no channel has spend, so ROAS is undefined everywhere");
                }
                var models = data.models;
                draw(this.id, {
                    type: "bar",
                    data: {
                        labels: channels,
                        datasets: models.map(function (m, i) {
                            var byChannel = {};
                            cm.rows.forEach(function (r) {
                                if (r.model === m) { byChannel[r.channel] = r.roas; }
                            });
                            return {
                                label: m, backgroundColor: color(i),
                                data: channels.map(function (c) {
                                    var v = byChannel[c];
                                    return v === undefined ? null : v;
                                }),
                            };
                        }),
                    },
                    options: {
                        scales: {
                            x: categoryAxis(),
                            y: { beginAtZero: true, title: { display: true, text: "ROAS" },
                                 ticks: { callback: function (v) { return fmt(v, "ratio"); } } },
                        },
                        plugins: { tooltip: tooltip("ratio") },
                    },
                });
            },
        },
        {
            id: "chart-daily", key: "daily", perModel: true,
            render: function (model) {
                var s = charts.daily.models[model];
                if (!s) { throw new Error("no daily rows for model " + model); }
                draw(this.id, {
                    type: "line",
                    data: {
                        labels: s.dates,
                        datasets: [
                            { label: "CPA, 7-day", data: s.cpa_7d, yAxisID: "y",
                              borderColor: color(0), backgroundColor: color(0), spanGaps: true,
                              pointRadius: 0, borderWidth: 2.5, tension: 0.2 },
                            { label: "ROAS, 7-day", data: s.roas_7d, yAxisID: "y1",
                              borderColor: color(1), backgroundColor: color(1), spanGaps: true,
                              pointRadius: 0, borderWidth: 2.5, tension: 0.2 },
                            { label: "CPA, daily", data: s.cpa, yAxisID: "y",
                              borderColor: "rgba(37, 99, 235, 0.35)",
                              backgroundColor: "rgba(37, 99, 235, 0.35)", spanGaps: true,
                              pointRadius: 1.5, borderWidth: 1, borderDash: [4, 3] },
                            { label: "ROAS, daily", data: s.roas, yAxisID: "y1",
                              borderColor: "rgba(245, 158, 11, 0.4)",
                              backgroundColor: "rgba(245, 158, 11, 0.4)", spanGaps: true,
                              pointRadius: 1.5, borderWidth: 1, borderDash: [4, 3] },
                        ],
                    },
                    options: {
                        interaction: { mode: "index", intersect: false },
                        scales: {
                            x: { ticks: { maxTicksLimit: 12 } },
                            y: moneyAxis("CPA (" + currency + ")"),
                            y1: { position: "right", beginAtZero: true,
                                  grid: { drawOnChartArea: false },
                                  title: { display: true, text: "ROAS" },
                                  ticks: { callback: function (v) { return fmt(v, "ratio"); } } },
                        },
                        plugins: {
                            tooltip: tooltip(function (ctx) {
                                return ctx.dataset.yAxisID === "y" ? "money2" : "ratio";
                            }),
                        },
                    },
                });
            },
        },
        {
            id: "chart-funnel", key: "funnel", perModel: true,
            render: function (model) {
                var f = charts.funnel;
                var conv = f.paid_conversions[model] || 0;
                var labels = [
                    "Impressions",
                    "Clicks (CTR " + fmt(ratio(f.clicks, f.impressions), "pct") + ")",
                    "Conversions (CVR " + fmt(ratio(conv, f.clicks), "pct") + ")",
                ];
                draw(this.id, {
                    type: "bar",
                    data: {
                        labels: labels,
                        datasets: [{
                            label: "Count",
                            data: [f.impressions, f.clicks, conv],
                            backgroundColor: [color(0), color(5), color(2)],
                        }],
                    },
                    options: {
                        indexAxis: "y",
                        scales: { x: { type: "logarithmic", title: { display: true,
                            text: "count (log scale)" },
                            ticks: { callback: function (v) {
                                var l = Math.log10(v);
                                return Math.abs(l - Math.round(l)) < 1e-9 ? fmt(v, "int") : "";
                            } } } },
                        plugins: { legend: { display: false }, tooltip: tooltip("num") },
                    },
                });
                var note = "All first-party conversions (every channel): " +
                    fmt(f.all_conversions, "int") + ".";
                section(this.id).querySelector(".muted").textContent =
                    "Conversions credited to paid channels by " + model +
                    " (logarithmic axis). " + (f.all_conversions === null ? "" : note);
            },
        },
        {
            id: "chart-reconciliation", key: "reconciliation", perModel: true,
            render: function (model) {
                var r = charts.reconciliation.models[model] ||
                    charts.reconciliation.models.all;
                if (!r) { throw new Error("no reconciliation rows for model " + model); }
                draw(this.id, {
                    type: "bar",
                    data: {
                        labels: r.platforms,
                        datasets: [
                            { label: "Platform-reported", data: r.reported,
                              backgroundColor: color(3) },
                            { label: "First-party (" + model + ")", data: r.first_party,
                              backgroundColor: color(0) },
                        ],
                    },
                    options: {
                        scales: { x: categoryAxis(), y: { beginAtZero: true,
                                       title: { display: true, text: "conversions" } } },
                        plugins: { tooltip: tooltip("num") },
                    },
                });
                section(this.id).querySelector(".muted").textContent =
                    "What each ad platform claims against what " + model +
                    " credits to it (" + charts.reconciliation.source + ").";
            },
        },
        {
            id: "chart-creative", key: "creative", perModel: false,
            render: function () {
                draw(this.id, {
                    type: "line",
                    data: {
                        datasets: charts.creative.ads.map(function (ad, i) {
                            return {
                                label: ad.label, borderColor: color(i), backgroundColor: color(i),
                                pointRadius: 1.5, tension: 0.2, spanGaps: true,
                                data: ad.points.map(function (p) { return { x: p[0], y: p[1] }; }),
                            };
                        }),
                    },
                    options: {
                        parsing: true,
                        scales: {
                            x: { type: "linear", title: { display: true,
                                 text: "days since launch" } },
                            y: { beginAtZero: true, title: { display: true, text: "CTR" },
                                 ticks: { callback: function (v) { return fmt(v, "pct"); } } },
                        },
                        plugins: { tooltip: tooltip("pct") },
                    },
                });
            },
        },
        {
            id: "chart-ltv", key: "ltv", perModel: false,
            render: function () {
                var l = charts.ltv;
                draw(this.id, {
                    type: "bar",
                    data: {
                        labels: l.channels,
                        datasets: [{ label: "LTV:CAC", data: l.values,
                                     backgroundColor: color(4) }],
                    },
                    options: {
                        indexAxis: "y",
                        scales: { y: categoryAxis(), x: { beginAtZero: true, title: {
                            display: true, text: l.column } } },
                        plugins: { legend: { display: false }, tooltip: tooltip("ratio") },
                    },
                });
            },
        },
    ];

    function renderChart(chart, model) {
        var d = charts[chart.key];
        if (!d || !d.available) {
            setNote(chart.id, (d && d.reason) || "Not available in this publication.", false);
            return "unavailable";
        }
        if (chart.perModel && !model) {
            setNote(chart.id, "No attribution model in this publication.", false);
            return "unavailable";
        }
        try {
            clearNote(chart.id);
            chart.render(model);
            return "rendered";
        } catch (e) {
            errors.push(chart.id + ": " + (e && e.message ? e.message : String(e)));
            setNote(chart.id, "This chart could not be drawn: " + (e && e.message), true);
            return "error";
        }
    }

    function cell(row, text, cls, tag) {
        var c = document.createElement(tag || "td");
        c.textContent = text;
        if (cls) { c.className = cls; }
        row.appendChild(c);
    }

    function renderTotalsAndTable(model) {
        document.getElementById("kpi-model").textContent = model || "no model";
        var table = document.getElementById("kpi-table");
        var totals = document.getElementById("totals");
        table.textContent = "";
        totals.textContent = "";
        var cm = charts.channel_model;
        if (!cm || !cm.available || !model) {
            var p = document.createElement("p");
            p.className = "note";
            p.textContent = (cm && cm.reason) || "Not available in this publication.";
            totals.appendChild(p);
            return;
        }
        var rows = modelRows(model);
        var t = { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 };
        rows.forEach(function (r) {
            Object.keys(t).forEach(function (k) { t[k] += r[k] || 0; });
        });
        [
            ["Spend", fmt(t.spend, "money")],
            ["Conversions", fmt(t.conversions, "num")],
            ["Attributed value", fmt(t.value, "money")],
            ["CPA", fmt(ratio(t.spend, t.conversions), "money2")],
            ["ROAS", fmt(ratio(t.value, t.spend), "ratio")],
            ["CTR", fmt(ratio(t.clicks, t.impressions), "pct")],
        ].forEach(function (kv) {
            var box = document.createElement("div");
            box.className = "kpi";
            var label = document.createElement("div");
            label.className = "label";
            label.textContent = kv[0];
            var value = document.createElement("div");
            value.className = "value";
            value.textContent = kv[1];
            box.appendChild(label);
            box.appendChild(value);
            totals.appendChild(box);
        });

        var cols = [
            ["channel", null], ["spend", "money"], ["impressions", "int"], ["clicks", "int"],
            ["conversions", "num"], ["value", "money"], ["cpa", "money2"], ["roas", "ratio"],
        ];
        var head = table.createTHead().insertRow();
        cols.forEach(function (c) {
            var label = c[0] === "spend" || c[0] === "value" ? c[0] + " (" + currency + ")"
                : c[0] === "cpa" ? "CPA" : c[0] === "roas" ? "ROAS" : c[0];
            cell(head, label, c[1] ? "num" : "", "th");
        });
        var body = table.createTBody();
        rows.forEach(function (r) {
            var tr = body.insertRow();
            cols.forEach(function (c) {
                cell(tr, c[1] ? fmt(r[c[0]], c[1]) : r[c[0]], c[1] ? "num" : "");
            });
        });
        var foot = table.createTFoot().insertRow();
        var total = {
            channel: "Total", spend: t.spend, impressions: t.impressions, clicks: t.clicks,
            conversions: t.conversions, value: t.value, cpa: ratio(t.spend, t.conversions),
            roas: ratio(t.value, t.spend),
        };
        cols.forEach(function (c) {
            cell(foot, c[1] ? fmt(total[c[0]], c[1]) : total[c[0]], c[1] ? "num" : "");
        });
    }

    function painted(canvas) {
        try {
            var ctx = canvas.getContext("2d");
            var img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            var n = 0;
            for (var i = 3; i < img.length; i += 4 * 7) { if (img[i] > 0) { n += 1; } }
            return n;
        } catch (e) {
            return -1;
        }
    }

    function writeStatus() {
        var counts = { rendered: 0, unavailable: 0, error: 0 };
        CHARTS.forEach(function (c) {
            var entry = status.charts[c.id];
            counts[entry.status] += 1;
            var canvas = section(c.id).querySelector("canvas");
            entry.width = canvas.clientWidth;
            entry.height = canvas.clientHeight;
            entry.painted = entry.status === "rendered" ? painted(canvas) : 0;
        });
        status.rendered = counts.rendered;
        status.unavailable = counts.unavailable;
        status.failed = counts.error;
        status.model = select.value || null;
        document.getElementById("render-status").textContent = JSON.stringify(status);
        document.documentElement.setAttribute("data-rendered", "true");
    }

    function renderAll(model, onlyPerModel) {
        CHARTS.forEach(function (c) {
            if (onlyPerModel && !c.perModel) { return; }
            var entry = { status: renderChart(c, model) };
            var note = section(c.id).querySelector(".note");
            if (!note.hidden) { entry.note = note.textContent; }
            status.charts[c.id] = entry;
        });
        renderTotalsAndTable(model);
        writeStatus();
    }

    try {
        if (typeof Chart === "undefined") { throw new Error("the chart library did not load"); }
        Chart.defaults.animation = false;
        Chart.defaults.responsive = true;
        Chart.defaults.maintainAspectRatio = false;
        Chart.defaults.font.family =
            "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
        Chart.defaults.color = "#3e4c59";

        (data.models || []).forEach(function (m) {
            var o = document.createElement("option");
            o.value = m;
            o.textContent = m;
            select.appendChild(o);
        });
        // The page's address may choose the model: kpi-report.html#model=markov
        var wanted = /(?:^#|&)model=([^&]+)/.exec(window.location.hash);
        var initial = wanted && (data.models || []).indexOf(decodeURIComponent(wanted[1])) >= 0
            ? decodeURIComponent(wanted[1]) : data.default_model;
        if (initial) { select.value = initial; }
        select.disabled = !(data.models || []).length;
        select.addEventListener("change", function () {
            window.location.hash = "model=" + encodeURIComponent(select.value);
            renderAll(select.value, true);
        });
        renderAll(initial, false);
    } catch (e) {
        errors.push(e && e.message ? e.message : String(e));
        document.getElementById("render-status").textContent = JSON.stringify(status);
        document.documentElement.setAttribute("data-rendered", "failed");
    }
})();
