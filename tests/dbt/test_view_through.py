"""View-through (option ``attribution.view_through``, off by default).

Platform exports count impressions per ad and day with no person, so only first-party
impression events (``attribution.view_through_events``: Segment track "Ad Impression")
can become view touches. The same tiny lake is built twice, option off and on, with the
models ``linear`` (click paths) and ``linear_view_through`` (the view-through variant,
tag ``view_through``):

- off: no view touches; impressions never enter click paths, even with campaign
  parameters; the variant equals ``linear``;
- on: click paths, the click models and Markov are exactly as with the option off; only
  the variant gets the impressions, labelled ``touch_type = 'view'``.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from tiny_lake import event, query, write_table

from pipelines import canonical, warehouse
from pipelines.config import load_settings

DAY = dt.date(2026, 3, 2)
MODELS = "[linear, markov, linear_view_through]"


def order(person: str, at: str, value: float) -> dict:
    return event(
        f"{person}-order",
        at,
        person,
        event_type="track",
        name="Order Completed",
        order_id=f"{person}-order",
        revenue=value,
        currency="USD",
    )


def impression(person: str, at: str, name: str = "Ad Impression", **campaign) -> dict:
    return event(f"{person}-imp-{at[-8:-6]}", at, person, event_type="track", name=name, **campaign)


EVENTS = [
    # v1: a display impression (with campaign parameters), then a paid search click, then
    # an order.
    impression("v1", "2026-03-02T08:00:00", utm_source="gdn", utm_medium="display"),
    event("v1-click", "2026-03-02T10:00:00", "v1", utm_source="google", utm_medium="cpc"),
    order("v1", "2026-03-02T11:00:00", 100.0),
    # v2: only a social impression before the order: an empty click path (Direct).
    impression(
        "v2", "2026-03-02T09:00:00", name="Impression", utm_source="facebook",
        utm_medium="paid_social",
    ),
    order("v2", "2026-03-02T12:00:00", 40.0),
    # v3: clicks only.
    event("v3-click", "2026-03-02T08:00:00", "v3", utm_source="newsletter", utm_medium="email"),
    order("v3", "2026-03-02T09:00:00", 20.0),
    # v4: an impression and a click, no order (a non-converting journey for Markov).
    impression("v4", "2026-03-02T07:00:00", utm_source="gdn", utm_medium="display"),
    event("v4-click", "2026-03-02T07:30:00", "v4", utm_source="google", utm_medium="cpc"),
]  # fmt: skip


def build(root, view_through: bool):
    settings = load_settings(
        data_dir=root / ("on" if view_through else "off"),
        environ={
            "ATTRIBUTION__ATTRIBUTION__MODELS": MODELS,
            "ATTRIBUTION__ATTRIBUTION__VIEW_THROUGH": str(view_through).lower(),
        },
    )
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        DAY,
        [{"rate_date": DAY, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08}],
    )
    write_table(settings, canonical.EVENTS, "events", DAY, EVENTS)
    warehouse.build(settings)
    return settings


def relation_type(settings, name: str) -> str:
    sql = f"select table_type from information_schema.tables where table_name = '{name}'"
    return query(settings, sql)["table_type"].item()


def view_through_path_tests(settings) -> dict[str, str]:
    """The status of each data test of int_conversion_paths_view_through in the build."""
    results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    return {
        r["unique_id"]: r["status"]
        for r in results["results"]
        if r["unique_id"].startswith("test.")
        and "int_conversion_paths_view_through" in r["unique_id"]
    }


def table(settings, sql: str) -> pd.DataFrame:
    frame = query(settings, sql)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


FCT = """
select model, person_key, channel, touch_type, touch_position, path_length, credit,
    attributed_value
from fct_attributed_conversions where model = '{model}'
"""
CLICK_PATHS = "select * from intermediate.int_conversion_paths"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("view_through")
    return build(root, view_through=False), build(root, view_through=True)


def test_off_by_default():
    assert load_settings(environ={}).attribution.view_through is False


def test_off_impressions_never_reach_paths(builds):
    off, _ = builds
    assert query(off, "select count(*) as n from intermediate.int_view_touches")["n"][0] == 0
    touches = query(off, "select event_id, touch_type from intermediate.int_touchpoints")
    assert not touches["event_id"].str.contains("-imp-").any()
    paths = query(off, "select * from intermediate.int_conversion_paths")
    channels = paths.groupby("conversion_id")["channel"].apply(list).to_dict()
    assert channels == {"v1-order": ["Paid Search"], "v2-order": ["Direct"], "v3-order": ["Email"]}
    assert set(paths["touch_type"]) == {"campaign_landing", "none"}
    variant = table(off, FCT.format(model="linear_view_through")).drop(columns="model")
    linear = table(off, FCT.format(model="linear")).drop(columns="model")
    pd.testing.assert_frame_equal(variant, linear)
    # the view-through paths are then the click paths: a view of them, not a second copy,
    # whose data tests are the click paths' (they would read every path again)
    assert relation_type(off, "int_conversion_paths_view_through") == "VIEW"
    assert view_through_path_tests(off) == {}
    pd.testing.assert_frame_equal(
        table(off, "select * from intermediate.int_conversion_paths_view_through"),
        table(off, CLICK_PATHS),
    )


def test_on_leaves_click_paths_and_click_models_unchanged(builds):
    off, on = builds
    pd.testing.assert_frame_equal(table(on, CLICK_PATHS), table(off, CLICK_PATHS))
    for model in ("linear", "markov"):
        fct = FCT.format(model=model)
        pd.testing.assert_frame_equal(table(on, fct), table(off, fct))
    effects = "select * from mart_markov_channel_effects"
    pd.testing.assert_frame_equal(table(on, effects), table(off, effects))
    journeys = "select * from intermediate.int_journeys"
    pd.testing.assert_frame_equal(table(on, journeys), table(off, journeys))


def test_on_adds_labelled_view_touches_to_the_variant_only(builds):
    _, on = builds
    assert relation_type(on, "int_conversion_paths_view_through") == "BASE TABLE"
    tests = view_through_path_tests(on)
    assert len(tests) == 4 and set(tests.values()) == {"pass"}
    variant = query(
        on,
        """
        select conversion_id, channel, touch_type, credit, attributed_value
        from fct_attributed_conversions where model = 'linear_view_through'
        order by conversion_id, touch_position
        """,
    )
    rows = {
        cid: list(zip(g["channel"], g["touch_type"], g["credit"], strict=True))
        for cid, g in variant.groupby("conversion_id")
    }
    assert rows == {
        "v1-order": [("Display", "view", 0.5), ("Paid Search", "campaign_landing", 0.5)],
        "v2-order": [("Paid Social", "view", 1.0)],
        "v3-order": [("Email", "campaign_landing", 1.0)],
    }
    assert variant["attributed_value"].sum() == pytest.approx(160.0)
    views = query(on, "select * from intermediate.int_view_touches order by touched_at")
    assert list(views["touch_type"]) == ["view"] * 3
    assert list(views["channel"]) == ["Display", "Display", "Paid Social"]
    others = query(
        on,
        "select count(*) as n from fct_attributed_conversions "
        "where touch_type = 'view' and model <> 'linear_view_through'",
    )
    assert others["n"][0] == 0
