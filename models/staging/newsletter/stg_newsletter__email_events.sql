with

base as (
    select * from {{ ref('base_newsletter__email_events') }}
),

final as (
    select
        email_event_id,
        subscriber_id,
        campaign_id,
        event_type,
        occurred_at
    from base
    where quarantine_reasons is null
)

select * from final
