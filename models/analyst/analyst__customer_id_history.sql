{{ config(alias='customer_id_history', post_hook="{{ analyst_column_comments('customer_id_history') }}") }}

{#- marts.customer_id_history for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('customer_id_history') }}

)

select * from final
