{{ config(
    alias='identity_anonymous_records',
    post_hook="{{ analyst_column_comments('identity_anonymous_records') }}",
) }}

{#- marts.identity_anonymous_records for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('identity_anonymous_records') }}

)

select * from final
