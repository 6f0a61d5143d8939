{{ config(alias='fct_touchpoints', post_hook="{{ analyst_column_comments('fct_touchpoints') }}") }}

{#- marts.fct_touchpoints for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('fct_touchpoints') }}

)

select * from final
