{{ config(
    alias='fct_consent_events',
    post_hook="{{ analyst_column_comments('fct_consent_events') }}",
) }}

{#- marts.fct_consent_events for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('fct_consent_events') }}

)

select * from final
