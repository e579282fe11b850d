"""The canonical lake tables: one shape per kind of data, whatever the platform.

Every source parser returns a DataFrame with exactly the columns of one of these tables
(``conform`` checks and orders them); the lake stores them as Parquet with these Arrow
types; dbt's staging models read them. Column meanings are documented in
``dbt_project/models/staging/_lake__sources.yml``.

Lake layout: ``lake/raw/<table>/source=<source>/date=<YYYY-MM-DD>/data.parquet`` where
``date`` is the landing folder's day.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

# Columns the ingestion adds to every row (the parser never sets them).
LINEAGE = [
    pa.field("source_file", pa.string()),  # path relative to the landing dir
    pa.field("file_hash", pa.string()),  # sha256 of the file's bytes
    pa.field("delivered_at", pa.timestamp("us", tz="UTC")),  # first seen by the ledger
]


@dataclass(frozen=True)
class Table:
    name: str
    fields: tuple[pa.Field, ...]
    # Grain within one (source, date) partition: a newer delivery's row replaces an older
    # one with the same key (restatements); rows with distinct keys add up (pages, accounts).
    key: tuple[str, ...]
    # Column holding the business date checked against the landing folder's day.
    date_column: str | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(list(self.fields) + LINEAGE)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _f(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ)


S, I64, F64, DATE, TS = (
    pa.string(),
    pa.int64(),
    pa.float64(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
)

AD_DELIVERY = Table(
    name="ad_delivery",
    fields=(
        _f("platform", S),  # the source name: google_ads, meta_ads, ...
        _f("account_id", S),  # digits only (act_, dashes, URN prefixes stripped)
        _f("account_name", S),
        _f("account_timezone", S),  # IANA name
        _f("account_currency", S),  # ISO 4217
        _f("spend_date", DATE),  # the platform's day bucket
        _f("date_basis", S),  # account_tz | utc | unknown
        _f("campaign_id", S),
        _f("campaign_name", S),
        _f("ad_group_id", S),  # Meta ad set, LinkedIn campaign, Microsoft ad group
        _f("ad_group_name", S),
        _f("ad_id", S),  # LinkedIn creative
        _f("ad_name", S),
        _f("impressions", I64),
        _f("clicks", I64),  # the platform's headline clicks
        _f("link_clicks", I64),  # Meta inline_link_clicks, LinkedIn landingPageClicks, else clicks
        _f("spend_micros", I64),  # micros of account_currency
        _f("platform_conversions", F64),
        _f("platform_conversion_value", F64),  # in account_currency
        _f("conversion_definition", S),  # e.g. meta:offsite_conversion.fb_pixel_purchase
    ),
    key=("platform", "account_id", "spend_date", "campaign_id", "ad_group_id", "ad_id"),
    date_column="spend_date",
)

EVENTS = Table(
    name="events",
    fields=(
        _f("event_id", S),  # Segment messageId
        _f("event_type", S),  # track | page | identify | screen | ...
        _f("event_name", S),  # track: event; page: name
        _f("event_at", TS),  # Segment timestamp, UTC
        _f("received_at", TS),
        _f("anonymous_id", S),
        _f("user_id", S),
        _f("page_url", S),
        _f("referrer_url", S),
        _f("utm_source", S),
        _f("utm_medium", S),
        _f("utm_campaign", S),
        _f("utm_term", S),
        _f("utm_content", S),
        _f("utm_id", S),
        _f(
            "click_id_type", S
        ),  # gclid | gbraid | wbraid | fbclid | ttclid | msclkid | li_fat_id | ...
        _f("click_id", S),  # opaque, case preserved
        _f("order_id", S),
        _f("revenue", F64),
        _f("currency", S),
        _f("email_hash", S),  # salted sha256 of the normalised address
        _f("phone_hash", S),
        _f("properties_json", S),  # remaining properties/traits, PII removed
    ),
    key=("event_id",),
    date_column=None,  # events carry timestamps; the source checks them against the folder day
)

AFFILIATE_TRANSACTIONS = Table(
    name="affiliate_transactions",
    fields=(
        _f("network", S),  # impact | awin | cj
        _f("transaction_id", S),
        _f("order_id", S),
        _f("advertiser_id", S),
        _f("publisher_id", S),
        _f("publisher_name", S),
        _f("sub_id", S),
        _f("event_at", TS),
        _f("click_at", TS),
        _f("transaction_date", DATE),  # event date in the reporting time zone
        _f("status", S),  # pending | approved | reversed
        _f("raw_status", S),
        _f("sale_amount", F64),
        _f("commission_amount", F64),
        _f("currency", S),
        _f("is_correction", pa.bool_()),
        _f("original_transaction_id", S),
        _f("updated_at", TS),
    ),
    key=("network", "transaction_id"),
    date_column=None,
)

APP_INSTALLS = Table(
    name="app_installs",
    fields=(
        _f("mmp", S),  # appsflyer
        _f("install_id", S),  # AppsFlyer ID
        _f("app_id", S),
        _f("install_at", TS),
        _f("touch_at", TS),
        _f("touch_type", S),  # click | impression | ...
        _f("media_source", S),
        _f("channel", S),
        _f("campaign_id", S),
        _f("campaign_name", S),
        _f("adset_id", S),
        _f("adset_name", S),
        _f("ad_id", S),
        _f("ad_name", S),
        _f("cost_model", S),
        _f("cost_value", F64),
        _f("cost_currency", S),
        _f("customer_user_id", S),
        _f("device_id_hash", S),
        _f("is_primary_attribution", pa.bool_()),
    ),
    key=("mmp", "install_id"),
    date_column=None,
)

FX_RATES = Table(
    name="fx_rates",
    fields=(
        _f("rate_date", DATE),
        _f("base_currency", S),  # EUR for ECB files; the reporting currency for simple CSVs
        _f("currency", S),
        _f("rate", F64),  # units of base_currency for one unit of currency
    ),
    key=("rate_date", "base_currency", "currency"),
    date_column="rate_date",
)

TABLES: dict[str, Table] = {
    t.name: t for t in (AD_DELIVERY, EVENTS, AFFILIATE_TRANSACTIONS, APP_INSTALLS, FX_RATES)
}


def empty_frame(table: Table) -> pd.DataFrame:
    """An empty DataFrame with the table's columns (parser columns only)."""
    return pa.schema(list(table.fields)).empty_table().to_pandas()


def conform(df: pd.DataFrame, table: Table) -> pa.Table:
    """Order, complete and type a parser's DataFrame as the table's Arrow schema.

    Missing nullable columns become typed nulls; extra columns are dropped (unknown
    extra columns never break a load). A value that cannot take the column's type raises
    ``ValueError`` naming the column.
    """
    schema = pa.schema(list(table.fields))
    arrays = []
    n = len(df)
    for field in schema:
        if field.name in df.columns:
            col = df[field.name]
            try:
                arr = pa.array(_prepare(col, field.type), type=field.type, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as exc:
                raise ValueError(
                    f"column {field.name!r}: cannot read as {field.type}: {exc}"
                ) from exc
        else:
            arr = pa.nulls(n, type=field.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def _prepare(col: pd.Series, typ: pa.DataType) -> object:
    if pa.types.is_timestamp(typ):
        return pd.to_datetime(col, utc=True)
    if pa.types.is_date32(typ):
        return pd.to_datetime(col).dt.date
    if pa.types.is_string(typ):
        return col.astype("string").astype(object).where(col.notna(), None)
    if pa.types.is_integer(typ):
        return col.astype("Int64")
    if pa.types.is_floating(typ):
        return col.astype("Float64")
    return col
