{#- App events with their customer: the login used at the time of the event if any,
    otherwise the customer of the device (the device's last login, via identity's
    customer_source_map). Devices that never logged in stay anonymous. -#}
with

app_events as (
    select * from {{ ref('stg_app__events') }}
),

app_logins_to_customers as (
    {{ customer_of_records('app', 'users', key_as='app_login_id') }}
),

devices_to_customers as (
    {{ customer_of_records('app', 'devices', key_as='device_id') }}
),

final as (
    select
        app_events.app_event_id,
        app_events.device_id,
        app_events.app_login_id,
        app_events.event_name,
        app_events.occurred_at,
        coalesce(app_logins_to_customers.customer_id, devices_to_customers.customer_id)
            as customer_id,
        case
            when app_logins_to_customers.customer_id is not null then 'login'
            when devices_to_customers.customer_id is not null then 'device'
            else 'unidentified'
        end as identity_method
    from app_events
    left join app_logins_to_customers
        on app_events.app_login_id = app_logins_to_customers.app_login_id
    left join devices_to_customers
        on app_events.device_id = devices_to_customers.device_id
)

select * from final
