{#- Web events with the customer they belong to. An event that carries a logged-in shop
    customer id belongs to the customer identity maps that event to (customer_source_map,
    web/events). An anonymous event belongs to the customer of the same cookie's NEXT
    logged-in event (the visitor identified themselves later); if the cookie never logs in
    again, to the customer of its PREVIOUS logged-in event. So a cookie shared by two
    customers splits at each login: the history before a login goes to whoever logged in.
    (Identity links a cookie used by one person as a whole, and does not use a cookie seen
    with several people; this rule agrees with the first and splits the second.)
    An event on a cookie that never logs in keeps identity's customer if identity maps it
    (identity_graph), else stays anonymous (customer_id null).
    Implemented with one running count of logins per cookie and two joins (no IGNORE NULLS),
    which runs on DuckDB and Spark alike. -#}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

web_events_to_customers as (
    {{ customer_of_records('web', 'events', key_as='web_event_id') }}
),

events_with_login_customer as (
    select
        web_events.web_event_id,
        web_events.cookie_id,
        web_events.shop_customer_id,
        web_events.event_type,
        web_events.page_url,
        web_events.referrer,
        web_events.utm_source,
        web_events.utm_medium,
        web_events.utm_campaign,
        web_events.occurred_at,
        case
            when web_events.shop_customer_id is not null
                then web_events_to_customers.customer_id
        end as login_customer_id,
        web_events_to_customers.customer_id as identity_customer_id
    from web_events
    left join web_events_to_customers
        on web_events.web_event_id = web_events_to_customers.web_event_id
),

-- logins are numbered per cookie in time order (one sort); an anonymous event after the
-- cookie's n-th login looks up login n+1 (next) and login n (previous)
events_numbered as (
    select
        *,
        count(login_customer_id) over (
            partition by cookie_id
            order by occurred_at asc, web_event_id asc
            rows between unbounded preceding and current row
        ) as logins_so_far
    from events_with_login_customer
),

cookie_logins as (
    select
        cookie_id,
        logins_so_far as login_number,
        login_customer_id
    from events_numbered
    where login_customer_id is not null
),

events_with_neighbour_logins as (
    select
        events_numbered.*,
        next_logins.login_customer_id as next_login_customer_id,
        previous_logins.login_customer_id as previous_login_customer_id
    from events_numbered
    left join cookie_logins as next_logins
        on events_numbered.cookie_id = next_logins.cookie_id
        and events_numbered.logins_so_far + 1 = next_logins.login_number
    left join cookie_logins as previous_logins
        on events_numbered.cookie_id = previous_logins.cookie_id
        and events_numbered.logins_so_far = previous_logins.login_number
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
        occurred_at,
        coalesce(
            login_customer_id,
            next_login_customer_id,
            previous_login_customer_id,
            identity_customer_id
        ) as customer_id,
        case
            when login_customer_id is not null then 'login'
            when next_login_customer_id is not null then 'cookie_next_login'
            when previous_login_customer_id is not null then 'cookie_previous_login'
            when identity_customer_id is not null then 'identity_graph'
            else 'unidentified'
        end as identity_method
    from events_with_neighbour_logins
)

select * from final
