{{ config(severity='warn') }}
-- The channel a platform's spend is booked to (seed platform_channels) should be the
-- channel the rule set gives that platform's own click-id touches (its default source
-- and medium), or spend and conversions land in different channel rows.

with

platform_defaults as (

    select
        platform as rule_key,
        lower(default_source) as source,
        lower(default_medium) as medium,
        cast(null as {{ dbt.type_string() }}) as campaign,
        cast(null as {{ dbt.type_string() }}) as click_id_type,
        channel as seed_channel
    from {{ ref('platform_channels') }}

),

classified as (

    {{ classify_channels('platform_defaults', 'rule_key') }}

),

final as (

    select
        platform_defaults.rule_key as platform,
        platform_defaults.seed_channel,
        classified.channel as rule_channel
    from platform_defaults
    inner join classified
        on platform_defaults.rule_key = classified.rule_key
    where platform_defaults.seed_channel <> classified.channel

)

select * from final
