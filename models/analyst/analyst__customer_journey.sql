{{ config(
    alias='customer_journey',
    post_hook="{{ analyst_column_comments('customer_journey') }}",
) }}

{#- marts.customer_journey for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_journey') }}

)

select * from final
