{{ config(
    alias='customer_source_map',
    post_hook="{{ analyst_column_comments('customer_source_map') }}",
) }}

{#- marts.customer_source_map for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_source_map') }}

)

select * from final
