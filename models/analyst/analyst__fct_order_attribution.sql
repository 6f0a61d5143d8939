{{ config(
    alias='fct_order_attribution',
    post_hook="{{ analyst_column_comments('fct_order_attribution') }}",
) }}

{#- marts.fct_order_attribution for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('fct_order_attribution') }}

)

select * from final
