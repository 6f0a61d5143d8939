{#- One row per consent event, per customer and purpose (docs/privacy.md). From the
    newsletter source: the sign-up (opt_in), the double opt-in confirmation
    (double_opt_in) and the opt-out of each subscriber record, plus every 'unsubscribe'
    e-mail event (an opt-out too). consent_status_after: the customer's state for the
    purpose right after the event: an opt-out withdraws, a double opt-in grants, a sign-up
    is pending unless consent was already granted (it does not revoke it). -#}

with

subscribers as (

    select * from {{ ref('stg_newsletter__subscribers') }}

),

email_events as (

    select * from {{ ref('stg_newsletter__email_events') }}

),

subscriber_customers as (

    {{ customer_of_records('newsletter', 'subscribers', key_as='subscriber_id') }}

),

subscriber_events as (

    {%- set subscriber_event_columns = [
        ('opt_in', 'opted_in_at'), ('double_opt_in', 'confirmed_at'), ('opt_out', 'opted_out_at'),
    ] %}
    {% for event_type, column in subscriber_event_columns %}
    select
        subscriber_id,
        '{{ event_type }}' as consent_event_type,
        {{ column }} as occurred_at,
        'newsletter.subscribers' as source_table,
        subscriber_id as source_record_key
    from subscribers
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

unsubscribe_events as (

    select
        subscriber_id,
        'opt_out' as consent_event_type,
        occurred_at,
        'newsletter.email_events' as source_table,
        email_event_id as source_record_key
    from email_events
    where
        event_type = 'unsubscribe'
        and subscriber_id is not null
        and occurred_at is not null

),

events as (

    select * from subscriber_events
    union all
    select * from unsubscribe_events

),

customer_events as (

    select
        subscriber_customers.customer_id,
        'newsletter' as purpose,
        events.consent_event_type,
        events.occurred_at,
        events.subscriber_id,
        events.source_table,
        events.source_record_key,
        case events.consent_event_type
            when 'opt_in' then 1 when 'double_opt_in' then 2 else 3
        end as event_order
    from events
    inner join subscriber_customers
        on events.subscriber_id = subscriber_customers.subscriber_id

),

with_last_decision as (

    select
        *,
        {{ last_value_ignore_nulls(
            "case when consent_event_type <> 'opt_in' then consent_event_type end"
        ) }} over (
            partition by customer_id, purpose
            order by occurred_at, event_order, source_table, source_record_key
            rows between unbounded preceding and current row
        ) as last_decision
    from customer_events

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "customer_id", "'|'", "purpose", "'|'", "consent_event_type", "'|'",
            "source_table", "'|'", "source_record_key",
        ])) }} as consent_event_id,
        customer_id,
        purpose,
        consent_event_type,
        occurred_at,
        case
            when consent_event_type = 'opt_out' then 'withdrawn'
            when consent_event_type = 'double_opt_in' then 'granted'
            when last_decision = 'double_opt_in' then 'granted'
            else 'pending'
        end as consent_status_after,
        subscriber_id,
        source_table,
        source_record_key,
        row_number() over (
            partition by customer_id, purpose
            order by occurred_at, event_order, source_table, source_record_key
        ) as event_sequence
    from with_last_decision

)

select * from final
