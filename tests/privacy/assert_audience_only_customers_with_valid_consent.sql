{#- Every customer in the newsletter audience has valid (granted) newsletter consent at
    the audience date, and the address used was double-opted-in and not opted out. -#}

with

audience as (

    select * from {{ ref('audience_newsletter') }}

),

consent as (

    select * from {{ ref('customer_consent') }}

),

subscribers as (

    select * from {{ ref('stg_newsletter__subscribers') }}

),

without_valid_consent as (

    select
        audience.customer_id,
        'no granted consent at the audience date' as problem
    from audience
    left join consent
        on audience.customer_id = consent.customer_id
        and consent.purpose = 'newsletter'
        and audience.audience_at >= consent.valid_from
        and (consent.valid_to is null or audience.audience_at < consent.valid_to)
    where consent.has_valid_consent is distinct from true

),

bad_address as (

    select
        audience.customer_id,
        'address not double-opted-in or opted out' as problem
    from audience
    inner join subscribers
        on audience.subscriber_id = subscribers.subscriber_id
    where
        subscribers.confirmed_at is null
        or subscribers.confirmed_at > audience.audience_at
        or subscribers.opted_out_at <= audience.audience_at

),

final as (

    select * from without_valid_consent
    union all
    select * from bad_address

)

select * from final
