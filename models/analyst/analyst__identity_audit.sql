{{ config(alias='identity_audit', post_hook="{{ analyst_column_comments('identity_audit') }}") }}

{#- marts.identity_audit for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('identity_audit') }}

)

select * from final
