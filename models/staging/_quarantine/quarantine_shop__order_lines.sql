with

base as (
    select * from {{ ref('base_shop__order_lines') }}
),

final as (
    select
        'shop.order_lines' as source_table,
        quarantine_reasons,
        {{ raw_columns_restored(source_column_names('shop', 'order_lines')) }}
    from base
    where quarantine_reasons is not null
)

select * from final
