{{ config(alias='fct_orders', post_hook="{{ analyst_column_comments('fct_orders') }}") }}

{#- marts.fct_orders for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('fct_orders') }}

)

select * from final
