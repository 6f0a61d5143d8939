{#- Every identity-bearing staged record of a known customer -> its one current customer
    ID, with the identifiers that link it (int_identity__node_links flags which of the
    record's own identifier values do). Records that belong to no customer (anonymous)
    are in identity_anonymous_records; together they account for every record once. -#}

with

records as (

    select * from {{ ref('int_identity__records') }}

),

node_clusters as (

    select * from {{ ref('int_identity__node_clusters') }}
    where is_known

),

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

node_links as (

    select * from {{ ref('int_identity__node_links') }}

),

cut_identifiers as (

    select identifier_sig
    from {{ ref('int_identity__components') }}
    where is_cut_link
    group by identifier_sig

),

-- probabilistic links that survived the guards (not cut)
kept_probabilistic as (

    select links.*
    from {{ ref('int_identity__probabilistic_links') }} as links
    left join cut_identifiers
        on links.identifier_sig = cut_identifiers.identifier_sig
    where cut_identifiers.identifier_sig is null

),

-- keyed by the linked records' nodes: a person record is a node of its own (its node_sig
-- is no other record's), and the join below then probes 64-bit keys, not record-id strings
probabilistic_ends as (

    select
        node_sig_l as node_sig,
        identifier_value as partner
    from kept_probabilistic
    union all
    select
        node_sig_r as node_sig,
        identifier_value as partner
    from kept_probabilistic

),

-- per record (node): its kept probabilistic links
probabilistic_partners as (

    select
        node_sig,
        string_agg(partner, ' | ' order by partner) as probabilistic_links
    from probabilistic_ends
    group by node_sig

),

final as (

    select
        records.record_id,
        records.source_system,
        records.source_table,
        records.record_key,
        assignment.customer_id,
        records.observed_at,
        records.is_person_record,
        node_links.linked_by_identifier_types,
        nullif(concat_ws(
            ' | '
            {%- for t in identity_type_names() | sort %},
            case when node_links.links_{{ t }} then {{ dbt.concat(["'" ~ t ~ ":'", 'records.id_' ~ t]) }} end
            {%- endfor %}
        ), '') as linked_by_identifiers,
        probabilistic_partners.node_sig is not null as is_linked_probabilistically,
        probabilistic_partners.probabilistic_links
    from records
    inner join node_clusters
        on records.node_sig = node_clusters.node_sig
    inner join assignment
        on node_clusters.cluster_num = assignment.cluster_num
    left join node_links
        on records.node_sig = node_links.node_sig
    left join probabilistic_partners
        on records.node_sig = probabilistic_partners.node_sig

)

select * from final
