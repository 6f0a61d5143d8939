{#- One row per current customer ID: the golden record. Each attribute survives by its own
    rule in one small model (models/intermediate/customer, docs/identity.md):
      e-mail, phone       int_customer__contact_points   latest valid, not blocklisted value
      name                int_customer__names            most trusted source system, latest
      birth date          int_customer__birth_dates      latest updated CRM contact with one
      postal address      int_customer__addresses        latest updated CRM contact with one
      country             the address's, else int_customer__shop_countries
      newsletter consent  int_customer__newsletter_status  subscription changed last
      record counts       int_customer__record_counts -#}
{#- per-system counts for the systems the contract documents (n_<system>_records); an
    eighth system's records count in n_records (docs/bring-your-own-data.md) -#}
{%- set documented = (model.columns or {}).keys() | list if execute else [] %}
{%- set systems = [] %}
{%- for system in identity_sources() | map(attribute='source_system') | unique %}
{%- if not execute or ('n_' ~ system ~ '_records') in documented %}
{%- do systems.append(system) %}
{%- endif %}
{%- endfor %}

with

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

registry as (

    select * from {{ ref('identity_registry') }}

),

contact_points as (

    select * from {{ ref('int_customer__contact_points') }}

),

names as (

    select * from {{ ref('int_customer__names') }}

),

birth_dates as (

    select * from {{ ref('int_customer__birth_dates') }}

),

addresses as (

    select * from {{ ref('int_customer__addresses') }}

),

shop_countries as (

    select * from {{ ref('int_customer__shop_countries') }}

),

newsletter_status as (

    select * from {{ ref('int_customer__newsletter_status') }}

),

record_counts as (

    select * from {{ ref('int_customer__record_counts') }}

),

final as (

    select
        assignment.customer_id,
        emails.identifier_value as email,
        emails.observed_at as email_observed_at,
        phones.identifier_value as phone,
        phones.observed_at as phone_observed_at,
        names.first_name,
        names.last_name,
        names.name_source_system,
        birth_dates.birth_date,
        addresses.street,
        addresses.postal_code,
        addresses.city,
        coalesce(addresses.country_code, shop_countries.country_code) as country_code,
        newsletter_status.subscription_status as newsletter_status,
        coalesce(newsletter_status.subscription_status = 'subscribed', false) as is_newsletter_subscribed,
        newsletter_status.is_double_opt_in as is_newsletter_double_opt_in,
        newsletter_status.status_changed_at as newsletter_status_changed_at,
        record_counts.first_seen_at,
        record_counts.last_seen_at,
        record_counts.n_records,
        {%- for system in systems %}
        record_counts.n_{{ system }}_records,
        {%- endfor %}
        registry.minted_at as customer_id_minted_at,
        registry.split_from_customer_id
    from assignment
    inner join record_counts
        on assignment.customer_id = record_counts.customer_id
    inner join registry
        on assignment.customer_id = registry.customer_id
    left join contact_points as emails
        on assignment.customer_id = emails.customer_id
        and emails.identifier_type = 'email'
    left join contact_points as phones
        on assignment.customer_id = phones.customer_id
        and phones.identifier_type = 'phone'
    left join names
        on assignment.customer_id = names.customer_id
    left join birth_dates
        on assignment.customer_id = birth_dates.customer_id
    left join addresses
        on assignment.customer_id = addresses.customer_id
    left join shop_countries
        on assignment.customer_id = shop_countries.customer_id
    left join newsletter_status
        on assignment.customer_id = newsletter_status.customer_id

)

select * from final
