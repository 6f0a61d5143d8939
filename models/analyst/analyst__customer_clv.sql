{{ config(alias='customer_clv', post_hook="{{ analyst_column_comments('customer_clv') }}") }}

{#- marts.customer_clv for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_clv') }}

)

select * from final
