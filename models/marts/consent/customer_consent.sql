{#- Consent state per customer and purpose over time (SCD type 2): one row per period in
    which the state (granted / pending / withdrawn) did not change. valid_to is the start
    of the next period (null: current). has_valid_consent: marketing for the purpose is
    allowed in the period (granted = double opt-in and no later opt-out). -#}

with

consent_events as (

    select * from {{ ref('fct_consent_events') }}

),

changes as (

    select
        *,
        lag(consent_status_after) over (
            partition by customer_id, purpose order by event_sequence
        ) as previous_status
    from consent_events

),

period_starts as (

    select
        customer_id,
        purpose,
        consent_status_after as consent_status,
        occurred_at as valid_from,
        consent_event_type as started_by_event_type,
        event_sequence
    from changes
    where previous_status is null or previous_status <> consent_status_after

),

final as (

    select
        customer_id,
        purpose,
        consent_status,
        consent_status = 'granted' as has_valid_consent,
        valid_from,
        lead(valid_from) over (
            partition by customer_id, purpose order by event_sequence
        ) as valid_to,
        lead(valid_from) over (
            partition by customer_id, purpose order by event_sequence
        ) is null as is_current,
        started_by_event_type
    from period_starts

)

select * from final
