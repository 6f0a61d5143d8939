with

base as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        order_id,
        shop_customer_id,
        email,
        email_raw,
        is_email_valid,
        ordered_at,
        currency,
        order_total,
        order_total_base,
        status,
        is_refunded,
        is_cancelled,
        order_channel,
        shipping_country
    from base
    where quarantine_reasons is null
)

select * from final
