with

base as (
    select * from {{ ref('base_web__events') }}
),

final as (
    select
        web_event_id,
        cookie_id,
        shop_customer_id,
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        occurred_at
    from base
    where quarantine_reasons is null
)

select * from final
