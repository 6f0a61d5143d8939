{#- Every customer in the newsletter audience has valid (granted) newsletter consent at
    the audience date, and the address used was double-opted-in and not opted out. -#}

with

audience as (

    select * from {{ ref('audience_newsletter') }}

),

-- newsletter periods, an open one ending at the end of time: the join below is then an
-- equality plus plain comparisons, which DuckDB runs as a hash join (with `valid_to is
-- null or ...` in the condition it fell back to a nested loop: 270 s at 590,000 people)
consent as (

    select
        customer_id,
        has_valid_consent,
        valid_from,
        coalesce(valid_to, cast('9999-12-31' as timestamp)) as valid_until
    from {{ ref('customer_consent') }}
    where purpose = 'newsletter'

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
        and audience.audience_at >= consent.valid_from
        and audience.audience_at < consent.valid_until
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
