{{ config(alias='fct_sessions', post_hook="{{ analyst_column_comments('fct_sessions') }}") }}

{#- marts.fct_sessions for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('fct_sessions') }}

)

select * from final
