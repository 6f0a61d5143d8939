with

base as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        'shop.orders' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('shop', 'orders')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
