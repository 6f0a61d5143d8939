{{ config(alias='clv_model_fit', post_hook="{{ analyst_column_comments('clv_model_fit') }}") }}

{#- marts.clv_model_fit for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('clv_model_fit') }}

)

select * from final
