{{ config(
    alias='churn_model_metrics',
    post_hook="{{ analyst_column_comments('churn_model_metrics') }}",
) }}

{#- marts.churn_model_metrics for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('churn_model_metrics') }}

)

select * from final
