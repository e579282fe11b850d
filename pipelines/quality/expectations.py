"""The project's rules as small custom expectation classes with readable descriptions.

Each class specialises a typed Great Expectations class (GX 1.x "customize an
expectation class" pattern), so its name says the rule (``expect_spend_matches_lake``),
its description reads well in Data Docs, and the gate reports it by that name.
``row_message`` (not a GX field) says what one offending row means; the gate formats it
with the row's columns for the failure's detail.

This module imports Great Expectations at the top: import it only inside functions
(the gate does) — ``import great_expectations`` costs several seconds.
"""

from __future__ import annotations

from typing import ClassVar

import great_expectations as gx

_Between = gx.expectations.ExpectColumnValuesToBeBetween
_NotNull = gx.expectations.ExpectColumnValuesToNotBeNull


# Grain and schema -------------------------------------------------------------------


class ExpectKeyNotNull(_NotNull):
    """A grain key column is never null."""

    description: str = "Grain key columns are never null."
    row_message: ClassVar[str] = "null {column}"


class ExpectGrainUnique(gx.expectations.ExpectCompoundColumnsToBeUnique):
    """One row per grain: the key columns are unique together."""

    description: str = "The table has one row per grain (the key columns are unique together)."
    row_message: ClassVar[str] = "duplicate key {key}"


class ExpectKeyUnique(gx.expectations.ExpectColumnValuesToBeUnique):
    """One row per grain when the grain is one column."""

    description: str = "The table has one row per grain (the key column is unique)."
    row_message: ClassVar[str] = "duplicate {column} {value!r}"


class ExpectLakeFilesHaveCanonicalColumns(gx.expectations.ExpectColumnValuesToBeNull):
    """Every lake partition file carries all canonical columns of its table."""

    column: str = "missing_columns"
    description: str = "Every lake partition file has all canonical columns of its table."
    row_message: ClassVar[str] = "{file} lacks {missing_columns}"


class ExpectFixedColumnPresent(_NotNull):
    """Each fixed column of a table (DESIGN.md) exists."""

    column: str = "data_type"
    description: str = "The table exists and has every fixed column named in DESIGN.md."
    row_message: ClassVar[str] = "{table_name}.{column_name} is missing"


class ExpectFixedColumnType(gx.expectations.ExpectColumnValuesToBeInSet):
    """Each fixed column has its contracted type family."""

    column: str = "type_matches"
    value_set: list = [True]  # ruff: ignore[mutable-class-default] (a pydantic field, copied per instance)
    description: str = "Fixed columns have their contracted types (date, timestamp, text, number)."
    row_message: ClassVar[str] = (
        "{table_name}.{column_name} is {data_type}, expected {expected_type}"
    )


class ExpectTableNotEmpty(gx.expectations.ExpectTableRowCountToBeBetween):
    """The table has rows."""

    min_value: int = 1
    description: str = "The table is not empty."
    row_message: ClassVar[str] = ""


# Values ---------------------------------------------------------------------------


class ExpectNonNegative(_Between):
    """Spend, impressions and clicks are never negative."""

    min_value: float = 0
    description: str = "Spend, impressions and clicks are never negative."
    row_message: ClassVar[str] = "{column} = {value}"


class ExpectPositiveRate(_Between):
    """Currency rates are strictly positive."""

    column: str = "rate"
    min_value: float = 0
    strict_min: bool = True
    description: str = "Currency rates are strictly positive."
    row_message: ClassVar[str] = "rate = {value}"


class ExpectCurrencyCode(gx.expectations.ExpectColumnValuesToMatchRegex):
    """Currency codes are three upper-case letters (ISO 4217)."""

    regex: str = r"^[A-Z]{3}$"
    description: str = "Currency codes are three upper-case letters (ISO 4217)."
    row_message: ClassVar[str] = "{column} = {value!r}"


class ExpectAcceptedValues(gx.expectations.ExpectColumnValuesToBeInSet):
    """A categorical column only holds its accepted values."""

    description: str = "Categorical columns hold only their accepted values."
    row_message: ClassVar[str] = "{column} = {value!r}"


class ExpectCreditWithinUnitInterval(_Between):
    """Every attribution credit is within [0, 1]."""

    column: str = "credit"
    min_value: float = 0
    max_value: float = 1
    description: str = "Every attribution credit is within [0, 1]."
    row_message: ClassVar[str] = "credit = {value}"


class ExpectRateWithinUnitInterval(_Between):
    """Ratios of a part to its whole (CTR, CVR) are within [0, 1]."""

    min_value: float = 0
    max_value: float = 1
    description: str = "Rates (CTR, CVR) are within [0, 1]."
    row_message: ClassVar[str] = "{column} = {value}"


class ExpectRoasWithinSanityBound(_Between):
    """ROAS is between 0 and ``quality.roas_max``."""

    column: str = "roas"
    min_value: float = 0
    description: str = "ROAS is between 0 and the configured sanity bound (quality.roas_max)."
    row_message: ClassVar[str] = "roas = {value}"


class ExpectCostPerResultWithinSanityBound(_Between):
    """CPA-like costs are between 0 and ``quality.cpa_max``."""

    min_value: float = 0
    description: str = "Costs per result (CPA, CPL, CPS, CPI) stay below quality.cpa_max."
    row_message: ClassVar[str] = "{column} = {value}"


# Lake health ------------------------------------------------------------------------


class ExpectSourceFresh(_Between):
    """A source's latest day is at most ``quality.freshness_max_lag_days`` behind the run."""

    column: str = "lag_days"
    description: str = "Each source has data up to the run date, within the allowed lag."
    row_message: ClassVar[str] = (
        "{table_name}/{source}: latest day {latest_date:%Y-%m-%d} is {lag_days} days "
        "before the run date {run_date:%Y-%m-%d}"
    )


class ExpectDailyRowsNearTrailingMedian(_Between):
    """A day's row count is within the configured ratios of the trailing median."""

    column: str = "rows_ratio"
    description: str = "A day's row count is within the allowed ratio of its trailing median."
    row_message: ClassVar[str] = (
        "{table_name}/{source} on {date:%Y-%m-%d}: {row_count} rows vs a trailing median "
        "of {rows_median}"
    )


class ExpectDailySpendNearTrailingMedian(_Between):
    """A day's spend is within the configured ratios of the trailing median."""

    column: str = "spend_ratio"
    description: str = "A day's spend is within the allowed ratio of its trailing median."
    row_message: ClassVar[str] = (
        "{source} on {date:%Y-%m-%d}: spend {spend:.2f} vs a trailing median of {spend_median:.2f}"
    )


class ExpectFxRateAvailable(_NotNull):
    """Every spend currency has a rate to the reporting currency for its day."""

    column: str = "to_reporting"
    description: str = "Every spend currency has a rate to the reporting currency on its day."
    row_message: ClassVar[str] = "no rate for {currency} on {spend_date:%Y-%m-%d}"


# Reconciliation ---------------------------------------------------------------------


class ExpectSpendMatchesLake(_Between):
    """Mart spend equals lake spend per platform and day, after conversion, to the cent."""

    column: str = "abs_difference"
    max_value: float = 0.01
    description: str = (
        "Spend in fct_ad_spend_daily equals the lake's spend per platform and day, "
        "converted to the reporting currency, to the cent."
    )
    row_message: ClassVar[str] = (
        "{platform} on {spend_date:%Y-%m-%d}: mart {mart_spend:.2f} vs lake {lake_spend:.2f}"
    )


class ExpectCreditsSumToOne(_Between):
    """Credits of each conversion sum to 1 in every model (within 1e-9)."""

    column: str = "credit_sum"
    min_value: float = 1 - 1e-9
    max_value: float = 1 + 1e-9
    description: str = "For every model, the credits of each conversion sum to 1 (within 1e-9)."
    row_message: ClassVar[str] = (
        "conversion {conversion_id} in {model}: credits sum to {credit_sum}"
    )


class ExpectAttributedConversionsMatchConversions(_Between):
    """Per model, attributed conversions equal the number of conversions.

    Within a relative 1e-8: a sum of millions of fractional credits drifts by about 1e-6
    at 500k conversions (and its order, so its last digits, varies between runs), while
    one missing conversion in 50M still shows.
    """

    column: str = "conversions_relative_difference"
    max_value: float = 1e-8
    description: str = "For every model, attributed conversions equal the number of conversions."
    row_message: ClassVar[str] = (
        "{model}: {attributed_conversions} attributed vs {conversions} conversions"
    )


class ExpectAttributedValueMatchesConversionValue(_Between):
    """Per model, attributed value equals the total conversion value (to the cent)."""

    column: str = "value_difference"
    max_value: float = 0.01
    description: str = "For every model, attributed value equals the total conversion value."
    row_message: ClassVar[str] = (
        "{model}: attributed value {attributed_value:.2f} vs conversion value "
        "{conversion_value:.2f}"
    )


class ExpectConversionsMatchLakeEvents(_Between):
    """Conversions in the warehouse equal the distinct conversion events in the lake."""

    column: str = "difference"
    max_value: float = 0
    description: str = (
        "The number of conversions per type equals the distinct conversion events in the lake."
    )
    row_message: ClassVar[str] = (
        "{conversion_type}: {warehouse_conversions} in the warehouse vs {lake_conversions} "
        "in the lake"
    )
