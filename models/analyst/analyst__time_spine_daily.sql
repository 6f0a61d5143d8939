{{ config(
    alias='time_spine_daily',
    post_hook="{{ analyst_column_comments('time_spine_daily') }}",
) }}

{#- marts.time_spine_daily for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('time_spine_daily') }}

)

select * from final
