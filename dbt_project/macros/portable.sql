{#
    Small portable helpers. Each dispatches per adapter so that the models stay free of
    engine-specific idioms (DuckDB by default; Spark SQL for the larger-engine port).
#}

{# try_cast: dbt.safe_cast is a plain cast on DuckDB, which raises on bad input. #}
{% macro safe_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'attribution')(expression, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}


{# numerator / denominator, null when the denominator is null or 0. #}
{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}


{# a = b, where two nulls are equal too (a join on values that may be null). #}
{% macro null_safe_equals(a, b) -%}
    {{ return(adapter.dispatch('null_safe_equals', 'attribution')(a, b)) }}
{%- endmacro %}

{% macro default__null_safe_equals(a, b) -%}
    {{ a }} is not distinct from {{ b }}
{%- endmacro %}

{% macro spark__null_safe_equals(a, b) -%}
    {{ a }} <=> {{ b }}
{%- endmacro %}


{# A stable text hash (md5 hex) of one expression. #}
{% macro stable_hash(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}


{# A stable hash of several columns; nulls are kept distinct from empty strings. #}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')"
        ) -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}


{#
    A naive UTC timestamp from a lake column stored as "timestamp with time zone (UTC)".
    The warehouse computes with naive UTC timestamps only.
#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'attribution')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- DuckDB: the instant's microseconds since the epoch, as a naive timestamp. The same value
    as timezone('UTC', x), which goes through ICU for every value: 0.24 s per 10M values
    against 0.02 s, and every scan of the events converts three columns. -#}
{% macro duckdb__utc_timestamp(expression) -%}
    make_timestamp(epoch_us({{ expression }}))
{%- endmacro %}


{# The wall-clock time in time zone `tz` of a naive UTC timestamp. #}
{% macro local_timestamp(expression, tz) -%}
    {{ return(adapter.dispatch('local_timestamp', 'attribution')(expression, tz)) }}
{%- endmacro %}

{% macro default__local_timestamp(expression, tz) -%}
    from_utc_timestamp({{ expression }}, '{{ tz }}')
{%- endmacro %}

{% macro duckdb__local_timestamp(expression, tz) -%}
    timezone('{{ tz }}', timezone('UTC', {{ expression }}))
{%- endmacro %}


{# The calendar day in the reporting time zone of a naive UTC timestamp. #}
{% macro reporting_date(expression) -%}
    cast({{ local_timestamp(expression, var('reporting_timezone')) }} as date)
{%- endmacro %}


{# Seconds (with fractions) from timestamp `start` to timestamp `stop`. #}
{% macro seconds_between(start, stop) -%}
    {{ return(adapter.dispatch('seconds_between', 'attribution')(start, stop)) }}
{%- endmacro %}

{% macro default__seconds_between(start, stop) -%}
    {#- A double: on Spark a literal such as 1000000.0 is a decimal, and decimal division
        keeps a bounded scale (the credits would differ from DuckDB's in the 7th digit). -#}
    (cast(unix_micros({{ stop }}) - unix_micros({{ start }}) as {{ type_double() }}) / 1000000.0)
{%- endmacro %}

{% macro duckdb__seconds_between(start, stop) -%}
    ({{ dbt.datediff(start, stop, 'microsecond') }} / 1000000.0)
{%- endmacro %}


{# True when `expression` contains a match of the regular expression `pattern`. #}
{% macro regex_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_match', 'attribution')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_match(expression, pattern) -%}
    ({{ expression }} rlike {{ pattern }})
{%- endmacro %}

{% macro duckdb__regex_match(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}


{# The host of a URL, lower-cased, without port and without a leading "www.". #}
{% macro url_host(url) -%}
    case
        when {{ url }} like '%://%' then
            regexp_replace(
                lower({{ dbt.split_part(dbt.split_part(dbt.split_part(url, "'/'", 3), "'?'", 1), "':'", 1) }}),
                '^www[.]',
                ''
            )
    end
{%- endmacro %}


{# A string literal, quotes escaped. #}
{% macro sql_string(value) -%}
    '{{ dbt.escape_single_quotes(value | string) }}'
{%- endmacro %}


{# An 8-byte float (dbt.type_float() is a 4-byte float on DuckDB). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'attribution')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}


{#
    Spark's reading of the contract data types (dbt renders the declared type of every
    contract column through dbt.cast when it checks a contract): the yml files name DuckDB
    types, and Spark SQL has no unbounded `varchar` / `text`, nor `timestamp with time
    zone` (its `timestamp` is one). The other names (bigint, integer, double, date,
    boolean, timestamp) mean the same on both.
#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type_name(type) }})
{%- endmacro %}

{% macro spark_type_name(type) -%}
    {%- set name = type | string | trim | lower -%}
    {%- if name in ['varchar', 'text', 'char', 'bpchar', 'string'] -%}
        string
    {%- elif name in ['timestamp with time zone', 'timestamptz'] -%}
        timestamp
    {%- else -%}
        {{ type }}
    {%- endif -%}
{%- endmacro %}


{# The values of `expression` joined by `delimiter` (a SQL string) in the order `order_by`
   (columns, ascending, nulls last), null values left out. #}
{% macro ordered_string_agg(expression, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'attribution')(expression, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expression, delimiter, order_by) -%}
    string_agg({{ expression }}, {{ delimiter }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- DuckDB: each group's values gathered unordered with their sort keys, then sorted as a
    list. DuckDB's ordered aggregate sorts every group on its own: over the 920k
    non-converting journeys of 10M events, int_path_outcomes took 1.4 s with it and 1.2 s
    this way. -#}
{% macro duckdb__ordered_string_agg(expression, delimiter, order_by) -%}
    array_to_string(
        list_transform(
            list_sort(
                list(struct_pack(
                    {%- for key in order_by.split(',') %}
                    sort_key_{{ loop.index }} := {{ key | trim }},
                    {%- endfor %}
                    string_value := {{ expression }}
                )) filter (where {{ expression }} is not null)
            ),
            lambda item: item.string_value
        ),
        {{ delimiter }}
    )
{%- endmacro %}


{#
    Spark SQL reads a backslash in a string literal as an escape, DuckDB does not: on Spark
    a value written as a literal (seeds, unit-test fixtures, sql_string) escapes its
    backslashes as well as its quotes, so regular expressions such as `^\(direct\)$` keep
    their meaning. Found before dbt-spark's own by dispatch.
#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace('\\', '\\\\') | replace("'", "\\'") }}
{%- endmacro %}


{# A touch (with its columns) has the signature of a row of int_touch_decisions. #}
{% macro signature_matches(touch, decision) -%}
    {%- for column in ['utm_source', 'utm_medium', 'utm_campaign', 'utm_id', 'utm_content',
                       'click_id_type', 'external_referrer_host'] -%}
        {{ null_safe_equals(touch ~ '.' ~ column, decision ~ '.' ~ column) }}
        and {% endfor -%}
    ({{ touch }}.click_id is not null) = {{ decision }}.has_click_id
{%- endmacro %}


{# `materialized` for a CTE the engine must compute once, apart from the query around it:
   DuckDB otherwise moves the outer filters into it. Spark SQL has no such keyword. #}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'attribution')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}
