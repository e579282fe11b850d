{{ config(materialized='table', schema='semantic') }}
{#-
    The day spine MetricFlow needs (and mart_target_pacing's calendar): one row per day
    from 2020-01-01 to 2035-12-31, built with dbt's portable date_spine.
-#}

with

days as (

    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2036-01-01' as date)") }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
