{#
    Project generic data tests (no dbt packages here: dbt deps has no network).
#}

{#
    Every group's `column_name` sums to 1 within `tolerance`. `latest_build_only`: only
    the groups of the rows the latest build wrote (`built_at`), for a table whose builds
    write each group whole; the others were checked by the builds that wrote them.
#}
{% test sums_to_one(model, column_name, group_by, tolerance=1e-9, latest_build_only=false) %}
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total
    from {{ model }}
    {%- if latest_build_only and written_by_several_builds(model) %}
    where built_at = (select max(built_at) from {{ model }})
    {%- endif %}
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


{#
    No two rows share a non-null `column_name`, for the keys of the rows the latest build
    wrote (`built_at` = its latest value; macros/incremental.sql build_started_at): the
    unique test of a table whose rows a nightly build replaces by key. Rows it did not
    write were checked by the build that did, and deleting rows makes no duplicate, so
    this proves the whole table's keys unique while reading the night's keys only.
    After a full build every row is the latest build's: the whole table is checked, by
    a plain group by (a filter on every key would cost twice as much). Two duplicates
    both written by earlier builds (an edit by hand) wait for the next full build.
#}
{% test unique_in_latest_build(model, column_name) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} is not null
    {%- if written_by_several_builds(model) %}
        and {{ column_name }} in (
            select {{ column_name }}
            from {{ model }}
            where built_at = (select max(built_at) from {{ model }})
        )
    {%- endif %}
    group by {{ column_name }}
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


{#- True when `model`'s rows were written by more than one build (its `built_at` values
    differ); false at parse time and after a full build. Read when the test runs. -#}
{% macro written_by_several_builds(model) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set several = run_query(
        "select max(built_at) > min(built_at) from " ~ model
    ).columns[0].values()[0] -%}
    {{ return(several == true) }}
{%- endmacro %}


{#
    None of `columns` holds a null: one row per column that does, with its count of null
    rows. One test per model in place of one per column: the build's 135 not_null tests
    were two thirds of its data tests, each a node of its own (dbt compiles, runs and
    logs every node: at 10M events a not_null node took 22 ms on average, its query a
    few). Each column is counted in its own branch, so the engine can still skip the row
    groups whose statistics hold no null.
#}
{% test not_null_columns(model, columns) %}
    select
        column_name,
        null_rows
    from (
        {%- for column in columns %}

        select
            '{{ column }}' as column_name,
            count(*) as null_rows
        from {{ model }}
        where {{ column }} is null
        {%- if not loop.last %}

        union all
        {%- endif %}
        {%- endfor %}

    ) as counted
    where null_rows > 0
{% endtest %}
