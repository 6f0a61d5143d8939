{#- One row per distinct identifier (type, value) with the guard decisions: blocklisted
    value or pattern (seeds identity_blocklist_values / identity_blocklist_patterns), or
    seen on more people-level keys than its type's max_people. is_usable = links records.
    identifier_sig, a 64-bit hash of (type, value), is the identifier's key in the graph
    (checked unique by int_identity__components before the graph is built: a collision
    fails the build instead of gluing two values). -#}
{%- set kinds = identity_people_kinds() %}

with

nodes as {{ identity_inline() }} (

    select * from {{ ref('int_identity__nodes') }}

),

blocklist_values as (

    select * from {{ ref('identity_blocklist_values') }}

),

blocklist_patterns as (

    select * from {{ ref('identity_blocklist_patterns') }}

),

node_identifiers as {{ identity_inline() }} (

    {% for t in identity_type_names() -%}
    select
        {{ identity_signature_hash(["'" ~ t ~ "'", 'id_' ~ t]) }} as identifier_sig,
        '{{ t }}' as identifier_type,
        id_{{ t }} as identifier_value,
        n_records,
        first_observed_at,
        last_observed_at,
        {%- for k in kinds %}
        pk_{{ k }},
        case when pk_{{ k }} is not null then {{ identity_signature_hash(['pk_' ~ k]) }} end as pk_hash_{{ k }},
        {%- endfor %}
        coalesce(
            {% for k in kinds %}pk_{{ k }}{% if not loop.last %},
            {% endif %}{% endfor %}
        ) is not null
            as has_people_key
    from nodes
    where id_{{ t }} is not null
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

distinct_identifiers as (

    select
        identifier_sig,
        identifier_type,
        identifier_value,
        sum(n_records) as n_records,
        min(first_observed_at) as first_observed_at,
        max(last_observed_at) as last_observed_at,
        -- at most one people key per kind unless min and max (of its hash) differ
        (
            {% for k in kinds %}coalesce(min(pk_hash_{{ k }}) <> max(pk_hash_{{ k }}), false){% if not loop.last %}
            or {% endif %}{% endfor %}
        ) as is_shared,
        bool_or(has_people_key) as has_people_key
    from node_identifiers
    group by identifier_sig, identifier_type, identifier_value

),

-- exact counts only where some kind has two or more keys (a few values)
shared_people_counts as (

    select
        node_identifiers.identifier_sig,
        greatest(
            {% for k in kinds %}count(distinct node_identifiers.pk_{{ k }}){% if not loop.last %},
            {% endif %}{% endfor %}
        ) as n_people
    from node_identifiers
    where node_identifiers.identifier_sig in (
            select distinct_identifiers.identifier_sig
            from distinct_identifiers
            where distinct_identifiers.is_shared
        )
    group by node_identifiers.identifier_sig

),

people_counts as (

    select
        distinct_identifiers.*,
        coalesce(
            shared_people_counts.n_people,
            case when distinct_identifiers.has_people_key then 1 else 0 end
        ) as n_people
    from distinct_identifiers
    left join shared_people_counts
        on distinct_identifiers.identifier_sig = shared_people_counts.identifier_sig

),

value_hits as (

    select
        distinct_identifiers.identifier_sig,
        min(blocklist_values.reason) as reason
    from distinct_identifiers
    inner join blocklist_values
        on distinct_identifiers.identifier_value = blocklist_values.identifier_value
        and blocklist_values.identifier_type in (distinct_identifiers.identifier_type, '*')
    group by distinct_identifiers.identifier_sig

),

pattern_hits as (

    select
        distinct_identifiers.identifier_sig,
        min(blocklist_patterns.reason) as reason
    from distinct_identifiers
    inner join blocklist_patterns
        on blocklist_patterns.identifier_type in (distinct_identifiers.identifier_type, '*')
        and distinct_identifiers.identifier_value like blocklist_patterns.pattern
    group by distinct_identifiers.identifier_sig

),

decided as (

    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        distinct_identifiers.identifier_sig,
        distinct_identifiers.n_records,
        distinct_identifiers.n_people,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'max_people') }} as max_people,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'trust', '0') }} as trust,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'unique_namespace', 'false') }}
            as is_unique_namespace,
        {{ identity_type_attribute('distinct_identifiers.identifier_type', 'anonymous', 'false') }}
            as is_anonymous_type,
        distinct_identifiers.first_observed_at,
        distinct_identifiers.last_observed_at,
        value_hits.reason as blocklist_value_reason,
        pattern_hits.reason as blocklist_pattern_reason
    from people_counts as distinct_identifiers
    left join value_hits
        on distinct_identifiers.identifier_sig = value_hits.identifier_sig
    left join pattern_hits
        on distinct_identifiers.identifier_sig = pattern_hits.identifier_sig

),

reasoned as (

    select
        identifier_sig,
        identifier_type,
        identifier_value,
        n_records,
        n_people,
        max_people,
        trust,
        is_unique_namespace,
        is_anonymous_type,
        first_observed_at,
        last_observed_at,
        case
            when blocklist_value_reason is not null
                then {{ dbt.concat(["'blocklisted value: '", 'blocklist_value_reason']) }}
            when blocklist_pattern_reason is not null
                then {{ dbt.concat(["'blocklisted pattern: '", 'blocklist_pattern_reason']) }}
            when max_people is not null and n_people > max_people
                then {{ dbt.concat([
                    "'seen on '", "cast(n_people as " ~ dbt.type_string() ~ ")",
                    "' people-level keys (max '", "cast(max_people as " ~ dbt.type_string() ~ ")", "')'",
                ]) }}
        end as exclusion_reason
    from decided

),

-- probabilistic links (int_identity__probabilistic_links): one identifier per link,
-- carried by its two records; usable (the tier's own threshold and vetoes decided)
probabilistic_identifiers as (

    select
        identifier_sig,
        identifier_type,
        identifier_value,
        cast(2 as {{ dbt.type_bigint() }}) as n_records,
        cast(null as {{ dbt.type_bigint() }}) as n_people,
        cast(null as {{ dbt.type_int() }}) as max_people,
        {{ identity_probabilistic_settings().get('trust', 30) }} as trust,
        false as is_unique_namespace,
        false as is_anonymous_type,
        cast(null as timestamp) as first_observed_at,
        cast(null as timestamp) as last_observed_at,
        cast(null as {{ dbt.type_string() }}) as exclusion_reason
    from {{ ref('int_identity__probabilistic_links') }}

),

final as (

    select
        reasoned.*,
        reasoned.exclusion_reason is null as is_usable,
        coalesce(reasoned.exclusion_reason like 'blocklisted%', false) as is_blocklisted
    from reasoned
    union all
    select
        probabilistic_identifiers.*,
        true as is_usable,
        false as is_blocklisted
    from probabilistic_identifiers

)

select * from final
