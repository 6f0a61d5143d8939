{{ config(alias='customer_churn', post_hook="{{ analyst_column_comments('customer_churn') }}") }}

{#- marts.customer_churn for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_churn') }}

)

select * from final
