{{ config(
    alias='customer_consent',
    post_hook="{{ analyst_column_comments('customer_consent') }}",
) }}

{#- marts.customer_consent for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_consent') }}

)

select * from final
