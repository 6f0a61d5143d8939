{#- One row per current customer ID: the golden record. Survivorship (docs/identity.md):
    e-mail and phone: the most recently observed valid, not blocklisted value on any of the
    customer's records; name: from the most trusted source system that has one (var
    identity_name_source_priority), latest record first; birth date and postal address:
    the most recently updated CRM contact that has them; country: CRM, else shop account;
    consent: the newsletter subscription changed last. -#}
{%- set sources = identity_sources() %}
{%- set systems = sources | map(attribute='source_system') | unique | list %}
{%- set priority = var('identity_name_source_priority') %}

with

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

registry as (

    select * from {{ ref('identity_registry') }}

),

nodes as {{ identity_inline() }} (

    select * from {{ ref('int_identity__nodes') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

{% for s in sources if s.names -%}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{% endfor -%}

crm_contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

shop_customers as (

    select * from {{ ref('stg_shop__customers') }}

),

newsletter_subscribers as (

    select * from {{ ref('stg_newsletter__subscribers') }}

),

person_records as (

    -- a person record is always a node of its own (first_record_key = its key)
    select
        nodes.source_system,
        nodes.source_table,
        nodes.first_record_key as record_key,
        node_clusters.cluster_num
    from nodes
    inner join node_clusters
        on nodes.node_sig = node_clusters.node_sig
    where nodes.is_person_record

),

node_contact_points as (

    {% for t in ['email', 'phone'] -%}
    select
        node_clusters.cluster_num,
        '{{ t }}' as identifier_type,
        nodes.id_{{ t }} as identifier_value,
        {{ identity_signature_hash(["'" ~ t ~ "'", 'nodes.id_' ~ t]) }} as identifier_sig,
        nodes.last_observed_at as observed_at
    from nodes
    inner join node_clusters
        on nodes.node_sig = node_clusters.node_sig
    where nodes.id_{{ t }} is not null
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

contact_points as (

    select
        node_contact_points.cluster_num,
        node_contact_points.identifier_type,
        node_contact_points.identifier_value,
        node_contact_points.observed_at,
        row_number() over (
            partition by node_contact_points.cluster_num, node_contact_points.identifier_type
            order by node_contact_points.observed_at desc, node_contact_points.identifier_value asc
        ) as recency_rank
    from node_contact_points
    inner join guards
        on node_contact_points.identifier_sig = guards.identifier_sig
    where not guards.is_blocklisted

),

names as (

    {% for s in sources if s.names -%}
    select
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        '{{ s.source_system }}' as source_system,
        '{{ s.source_table }}' as source_table,
        cast({{ s.key }} as {{ dbt.type_string() }}) as record_key,
        first_name,
        last_name,
        cast({{ s.observed_at }} as timestamp) as observed_at
    from {{ s.model }}
    where first_name is not null or last_name is not null
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

ranked_names as (

    select
        person_records.cluster_num,
        names.source_system,
        names.first_name,
        names.last_name,
        row_number() over (
            partition by person_records.cluster_num
            order by
                case names.source_system
                    {%- for system in priority %}
                    when '{{ system }}' then {{ loop.index }}
                    {%- endfor %}
                    else {{ priority | length + 1 }}
                end,
                names.observed_at desc,
                names.record_id asc
        ) as name_rank
    from names
    inner join person_records
        on names.source_system = person_records.source_system
        and names.source_table = person_records.source_table
        and names.record_key = person_records.record_key

),

crm_details as (

    select
        person_records.cluster_num,
        crm_contacts.birth_date,
        crm_contacts.street,
        crm_contacts.postal_code,
        crm_contacts.city,
        crm_contacts.country_code,
        crm_contacts.updated_at,
        crm_contacts.crm_contact_id
    from crm_contacts
    inner join person_records
        on person_records.source_system = 'crm'
        and person_records.source_table = 'contacts'
        and person_records.record_key = cast(crm_contacts.crm_contact_id as {{ dbt.type_string() }})

),

birth_dates as (

    select
        cluster_num,
        birth_date
    from (
        select
            cluster_num,
            birth_date,
            row_number() over (
                partition by cluster_num order by updated_at desc, crm_contact_id asc
            ) as rn
        from crm_details
        where birth_date is not null
    ) as ranked
    where rn = 1

),

addresses as (

    select
        cluster_num,
        street,
        postal_code,
        city,
        country_code
    from (
        select
            crm_details.*,
            row_number() over (
                partition by crm_details.cluster_num
                order by crm_details.updated_at desc, crm_details.crm_contact_id asc
            ) as rn
        from crm_details
        where crm_details.street is not null or crm_details.postal_code is not null or crm_details.city is not null
    ) as ranked
    where rn = 1

),

shop_countries as (

    select
        cluster_num,
        country_code
    from (
        select
            person_records.cluster_num,
            shop_customers.country_code,
            row_number() over (
                partition by person_records.cluster_num
                order by shop_customers.updated_at desc, shop_customers.shop_customer_id asc
            ) as rn
        from shop_customers
        inner join person_records
            on person_records.source_system = 'shop'
            and person_records.source_table = 'customers'
            and person_records.record_key = cast(shop_customers.shop_customer_id as {{ dbt.type_string() }})
        where shop_customers.country_code is not null
    ) as ranked
    where rn = 1

),

consents as (

    select
        cluster_num,
        subscription_status,
        is_double_opt_in,
        status_changed_at
    from (
        select
            person_records.cluster_num,
            newsletter_subscribers.subscription_status,
            newsletter_subscribers.is_double_opt_in,
            coalesce(
                newsletter_subscribers.opted_out_at,
                newsletter_subscribers.confirmed_at,
                newsletter_subscribers.opted_in_at
            ) as status_changed_at,
            row_number() over (
                partition by person_records.cluster_num
                order by
                    coalesce(
                        newsletter_subscribers.opted_out_at,
                        newsletter_subscribers.confirmed_at,
                        newsletter_subscribers.opted_in_at
                    ) desc,
                    newsletter_subscribers.subscriber_id
            ) as rn
        from newsletter_subscribers
        inner join person_records
            on person_records.source_system = 'newsletter'
            and person_records.source_table = 'subscribers'
            and person_records.record_key = cast(newsletter_subscribers.subscriber_id as {{ dbt.type_string() }})
    ) as ranked
    where rn = 1

),

record_counts as (

    select
        cluster_num,
        cast(sum(n_records) as {{ dbt.type_bigint() }}) as n_records,
        {%- for system in systems %}
        cast(sum(case when source_system = '{{ system }}' then n_records else 0 end) as {{ dbt.type_bigint() }})
            as n_{{ system }}_records,
        {%- endfor %}
        min(first_observed_at) as first_seen_at,
        max(last_observed_at) as last_seen_at
    from node_clusters
    group by cluster_num

),

final as (

    select
        assignment.customer_id,
        emails.identifier_value as email,
        emails.observed_at as email_observed_at,
        phones.identifier_value as phone,
        phones.observed_at as phone_observed_at,
        ranked_names.first_name,
        ranked_names.last_name,
        ranked_names.source_system as name_source_system,
        birth_dates.birth_date,
        addresses.street,
        addresses.postal_code,
        addresses.city,
        coalesce(addresses.country_code, shop_countries.country_code) as country_code,
        consents.subscription_status as newsletter_status,
        coalesce(consents.subscription_status = 'subscribed', false) as is_newsletter_subscribed,
        consents.is_double_opt_in as is_newsletter_double_opt_in,
        consents.status_changed_at as newsletter_status_changed_at,
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
        on assignment.cluster_num = record_counts.cluster_num
    inner join registry
        on assignment.customer_id = registry.customer_id
    left join contact_points as emails
        on assignment.cluster_num = emails.cluster_num
        and emails.identifier_type = 'email'
        and emails.recency_rank = 1
    left join contact_points as phones
        on assignment.cluster_num = phones.cluster_num
        and phones.identifier_type = 'phone'
        and phones.recency_rank = 1
    left join ranked_names
        on assignment.cluster_num = ranked_names.cluster_num
        and ranked_names.name_rank = 1
    left join birth_dates
        on assignment.cluster_num = birth_dates.cluster_num
    left join addresses
        on assignment.cluster_num = addresses.cluster_num
    left join shop_countries
        on assignment.cluster_num = shop_countries.cluster_num
    left join consents
        on assignment.cluster_num = consents.cluster_num

)

select * from final
