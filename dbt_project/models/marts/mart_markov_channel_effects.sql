{#-
    Markov removal effects and channel totals, one row per channel of the chain
    (computed exactly in int_markov_channel_effects; see attribution-models.md).
-#}

with

int_markov_channel_effects as (

    select
        channel,
        removal_effect,
        value_removal_effect,
        share,
        attributed_conversions,
        attributed_value
    from {{ ref('int_markov_channel_effects') }}

),

final as (

    select
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(removal_effect as {{ type_double() }}) as removal_effect,
        cast(value_removal_effect as {{ type_double() }}) as value_removal_effect,
        cast(share as {{ type_double() }}) as share,
        cast(attributed_conversions as {{ type_double() }}) as attributed_conversions,
        cast(attributed_value as {{ type_double() }}) as attributed_value
    from int_markov_channel_effects

)

select * from final
