{{ config(
    alias='customer_id_history',
    post_hook="{{ analyst_column_comments('customer_id_history') }}",
) }}

{#- marts.customer_id_history for analysts: columns by their meta.pii tag
    (macros/privacy/analyst_safe.sql); erased IDs are left out (their tombstone stays in
    the restricted registry only, docs/privacy.md) -#}
with

history as (

    {{ analyst_safe_select('customer_id_history') }}

),

final as (

    select * from history
    where status <> 'erased'

)

select * from final
