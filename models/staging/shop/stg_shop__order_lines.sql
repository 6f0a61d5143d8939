with

base as (
    select * from {{ ref('base_shop__order_lines') }}
),

final as (
    select
        order_line_id,
        order_id,
        product_id,
        product_category,
        quantity,
        unit_price,
        line_total
    from base
    where quarantine_reasons is null
)

select * from final
