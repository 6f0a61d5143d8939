{{ config(alias='dim_customer', post_hook="{{ analyst_column_comments('dim_customer') }}") }}

{#- marts.dim_customer for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('dim_customer') }}

)

select * from final
