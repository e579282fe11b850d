-- Conservation laws (reference/attribution-models.md): for every enabled model, the
-- credits add up to the number of conversions and the attributed value to the total
-- conversion value. Returns one row per model that breaks them.

with

conversions as (

    select
        count(*) as conversion_count,
        coalesce(sum(conversion_value), 0) as total_value
    from {{ ref('int_conversions') }}

),

attributed as (

    select
        model,
        sum(credit) as credited,
        coalesce(sum(attributed_value), 0) as attributed_value
    from {{ ref('fct_attributed_conversions') }}
    group by model

),

models as (

    {{ attribution_model_names_relation() }}

),

final as (

    select
        models.model,
        conversions.conversion_count,
        coalesce(attributed.credited, 0) as credited,
        conversions.total_value,
        coalesce(attributed.attributed_value, 0) as attributed_value
    from models
    cross join conversions
    left join attributed
        on models.model = attributed.model
    -- relative tolerances: millions of fractional credits sum with a drift of about 1e-6
    -- at 500k conversions, in an order (so last digits) that varies between runs
    where abs(coalesce(attributed.credited, 0) - conversions.conversion_count)
            > 1e-8 * greatest(1, conversions.conversion_count)
        or abs(coalesce(attributed.attributed_value, 0) - conversions.total_value)
            > 1e-6 * greatest(1, conversions.total_value)

)

select * from final
