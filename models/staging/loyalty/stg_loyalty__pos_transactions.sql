with

base as (
    select * from {{ ref('base_loyalty__pos_transactions') }}
),

final as (
    select
        pos_transaction_id,
        loyalty_number,
        store_id,
        transacted_at,
        currency,
        amount,
        amount_base
    from base
    where quarantine_reasons is null
)

select * from final
