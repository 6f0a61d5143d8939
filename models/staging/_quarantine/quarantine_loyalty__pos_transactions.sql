with

base as (
    select * from {{ ref('base_loyalty__pos_transactions') }}
),

final as (
    select
        'loyalty.pos_transactions' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('loyalty', 'pos_transactions')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
