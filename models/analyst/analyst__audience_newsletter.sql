{{ config(
    alias='audience_newsletter',
    post_hook="{{ analyst_column_comments('audience_newsletter') }}",
) }}

{#- marts.audience_newsletter for analysts: columns by their meta.pii tag (macros/privacy/analyst_safe.sql) -#}
with

final as (

    {{ analyst_safe_select('audience_newsletter') }}

)

select * from final
