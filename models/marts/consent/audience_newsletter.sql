{#- The newsletter audience: customers with valid consent for purpose 'newsletter' at
    the audience date (var consent_as_of, default: build time) and the address to send
    to: the latest double-opted-in subscription of the customer that is not opted out.
    A customer who opted out (on any of their subscriptions, after their latest double
    opt-in) is not in it. Restricted (it holds e-mails); the analyst layer publishes it
    pseudonymised. -#}
{%- set as_of = var('consent_as_of', none) %}

with

customer_consent as (

    select * from {{ ref('customer_consent') }}

),

subscribers as (

    select * from {{ ref('stg_newsletter__subscribers') }}

),

email_events as (

    select * from {{ ref('stg_newsletter__email_events') }}

),

subscriber_customers as (

    {{ customer_of_records('newsletter', 'subscribers', key_as='subscriber_id') }}

),

audience_date as (

    select
        {% if as_of %}cast('{{ as_of }}' as timestamp){% else %}
        cast({{ dbt.current_timestamp() }} as timestamp)
        {% endif %}
            as audience_at

),

consented as (

    select
        customer_consent.customer_id,
        customer_consent.valid_from,
        audience_date.audience_at
    from customer_consent
    cross join audience_date
    where
        customer_consent.purpose = 'newsletter'
        and customer_consent.has_valid_consent
        and customer_consent.valid_from <= audience_date.audience_at
        and (customer_consent.valid_to is null or customer_consent.valid_to > audience_date.audience_at)

),

unsubscribed as (

    select distinct email_events.subscriber_id
    from email_events
    cross join audience_date
    where
        email_events.event_type = 'unsubscribe'
        and email_events.occurred_at <= audience_date.audience_at

),

sendable as (

    select
        subscriber_customers.customer_id,
        subscribers.subscriber_id,
        subscribers.email,
        subscribers.confirmed_at,
        row_number() over (
            partition by subscriber_customers.customer_id
            order by subscribers.confirmed_at desc, subscribers.subscriber_id asc
        ) as address_rank
    from subscribers
    cross join audience_date
    inner join subscriber_customers
        on subscribers.subscriber_id = subscriber_customers.subscriber_id
    left join unsubscribed
        on subscribers.subscriber_id = unsubscribed.subscriber_id
    where
        subscribers.email is not null
        and subscribers.confirmed_at <= audience_date.audience_at
        and (subscribers.opted_out_at is null or subscribers.opted_out_at > audience_date.audience_at)
        and unsubscribed.subscriber_id is null

),

final as (

    select
        consented.customer_id,
        sendable.subscriber_id,
        sendable.email,
        consented.valid_from as consent_valid_from,
        consented.audience_at
    from consented
    inner join sendable
        on consented.customer_id = sendable.customer_id
        and sendable.address_rank = 1

)

select * from final
