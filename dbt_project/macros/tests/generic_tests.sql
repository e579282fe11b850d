{#
    Project generic data tests (no dbt packages here: dbt deps has no network).
#}

{# Every group's `column_name` sums to 1 within `tolerance`. #}
{% test sums_to_one(model, column_name, group_by, tolerance=1e-9) %}
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total
    from {{ model }}
    group by {{ group_by | join(', ') }}
    having abs(sum({{ column_name }}) - 1) > {{ tolerance }}
        or sum({{ column_name }}) is null
{% endtest %}


{# No two rows share the values of `combination` (nulls compare equal). #}
{% test unique_combination(model, combination) %}
    select
        {{ combination | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}


{# Every non-null value lies in [min_value, max_value] (within `tolerance`). #}
{% test between(model, column_name, min_value, max_value, tolerance=1e-9) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} - {{ tolerance }}
        or {{ column_name }} > {{ max_value }} + {{ tolerance }}
{% endtest %}


{#
    Every row in a currency other than the reporting currency found a rate for its day:
    one failing row per (currency, day), with a sentence naming both.
#}
{% test has_fx_rate(model, column_name, currency_column, date_column) %}
    select
        {{ currency_column }} as currency,
        {{ date_column }} as rate_date,
        count(*) as rows_without_rate,
        {{ dbt.concat([
            "'no " ~ var('reporting_currency') ~ " rate for '",
            currency_column,
            "' on '",
            "cast(" ~ date_column ~ " as " ~ dbt.type_string() ~ ")",
            "': add the day to the fx_rates landing folder (or a rate within "
                ~ var('fx_max_fill_days') ~ " days before it)'",
        ]) }} as problem
    from {{ model }}
    where {{ column_name }} is null
        and {{ currency_column }} <> '{{ var('reporting_currency') }}'
    group by {{ currency_column }}, {{ date_column }}
{% endtest %}
