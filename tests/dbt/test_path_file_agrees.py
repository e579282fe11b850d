"""``attribution attribute-paths`` on a path file equals the pipeline on the same journeys.

A small path file is turned into first-party events: each converting row into that many
people whose touches produce exactly the row's path and who then order (the row's value
split evenly), each ``total_null`` into that many people with the path and no order, so
the warehouse's non-converting journeys are the file's nulls. The tiny lake holds nothing
else. The per-channel totals of ``first_touch``, ``last_touch``, ``linear`` and
``shapley`` (``fct_attributed_conversions``) and of ``markov``
(``mart_markov_channel_effects``) must equal the command's output.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from tiny_lake import event, query, write_table
from typer.testing import CliRunner

from pipelines import canonical, warehouse
from pipelines.cli import app
from pipelines.config import load_settings

DAY = dt.date(2026, 3, 2)
PATH_FILE = """\
path;total_conversions;total_conversion_value;total_null
Paid Search > Email;2;70.00;1
Email > Direct > Email;1;15.50;0
Display > Paid Search > Email;1;60.00;2
Display > Display > Paid Search;1;25.00;0
Paid Search;1;9.99;1
Email;0;0;1
Direct;0;0;1
;1;5.00;0
"""
# Each channel as the landing that the channel rules classify so (Direct: a new session
# without campaign signal or referrer).
LANDINGS = {
    "Paid Search": {"utm_source": "google", "utm_medium": "cpc"},
    "Email": {"utm_source": "newsletter", "utm_medium": "email"},
    "Display": {"utm_source": "gdn", "utm_medium": "display"},
    "Direct": {},
}
COMPARED = ("attributed_conversions", "attributed_value")


def journey_events(person: str, channels: list[str], value: float | None) -> list[dict]:
    """Touches two hours apart (each a new session), then the order when ``value`` is set."""
    start = pd.Timestamp("2026-03-02T06:00:00")
    rows = [
        event(f"{person}-t{k}", str(start + pd.Timedelta(hours=2 * k)), person, **LANDINGS[c])
        for k, c in enumerate(channels)
    ]
    if value is not None:
        rows.append(
            event(
                f"{person}-order",
                str(start + pd.Timedelta(hours=2 * len(channels) + 1)),
                person,
                event_type="track",
                name="Order Completed",
                order_id=f"{person}-order",
                revenue=value,
                currency="USD",
            )
        )
    return rows


def lake_events(records: pd.DataFrame) -> list[dict]:
    rows = []
    for i, record in enumerate(records.itertuples(index=False)):
        channels = [c.strip() for c in record.path.split(">")] if record.path else []
        n = int(record.total_conversions)
        for j in range(n):
            rows += journey_events(f"p{i}c{j}", channels, record.total_conversion_value / n)
        for j in range(int(record.total_null)):
            rows += journey_events(f"p{i}n{j}", channels, None)
    return rows


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    root = tmp_path_factory.mktemp("path_file_agrees")
    path_file = root / "paths.csv"
    path_file.write_text(PATH_FILE)
    records = pd.read_csv(path_file, sep=";", keep_default_na=False)

    settings = load_settings(data_dir=root / "data", environ={})
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        DAY,
        [{"rate_date": DAY, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08}],
    )
    write_table(settings, canonical.EVENTS, "events", DAY, lake_events(records))
    warehouse.build(settings)

    out = root / "by_channel.csv"
    run = CliRunner().invoke(
        app, ["--data-dir", str(settings.paths.data_dir), "attribute-paths", str(path_file),
              "--out", str(out)]
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    from_file = pd.read_csv(out).set_index(["model", "channel"]).sort_index()

    rules = query(
        settings,
        """
        select model, channel, sum(credit) as attributed_conversions,
            sum(attributed_value) as attributed_value
        from fct_attributed_conversions
        where model in ('first_touch', 'last_touch', 'linear', 'shapley')
        group by model, channel
        """,
    )
    markov = query(settings, "select * from mart_markov_channel_effects").assign(model="markov")
    from_pipeline = (
        pd.concat([rules, markov], ignore_index=True).set_index(["model", "channel"]).sort_index()
    )
    nulls = query(
        settings,
        "select count(distinct journey_id) as n from intermediate.int_journeys "
        "where not is_conversion",
    )["n"].iloc[0]
    return records, from_file, from_pipeline, nulls


def test_the_pipeline_sees_the_file_journeys(compared):
    records, _, from_pipeline, nulls = compared
    assert nulls == records["total_null"].sum()
    for model in ("first_touch", "markov"):
        totals = from_pipeline.loc[model, "attributed_conversions"].sum()
        assert totals == pytest.approx(records["total_conversions"].sum())


@pytest.mark.parametrize("model", ["first_touch", "last_touch", "linear", "markov", "shapley"])
def test_channel_totals_agree(compared, model):
    _, from_file, from_pipeline, _ = compared
    expected = from_file.loc[model, list(COMPARED)]
    got = from_pipeline.loc[model, list(COMPARED)]
    # The file names every channel of its paths; the pipeline only those with credit rows.
    expected = expected[(expected != 0).any(axis=1) | expected.index.isin(got.index)]
    pd.testing.assert_frame_equal(
        got.reindex(expected.index).fillna(0.0), expected, check_dtype=False, atol=1e-9
    )


def test_markov_removal_effects_agree(compared):
    _, from_file, from_pipeline, _ = compared
    columns = ["removal_effect", "value_removal_effect"]
    pd.testing.assert_frame_equal(
        from_pipeline.loc["markov", columns],
        from_file.loc["markov", columns],
        check_dtype=False,
        atol=1e-12,
    )
    # Not a degenerate chain: the channels really differ.
    assert from_file.loc["markov", "removal_effect"].nunique() > 1
