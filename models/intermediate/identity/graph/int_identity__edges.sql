{#- The node-identifier bipartite graph as integer pairs: one row per node and usable
    identifier it carries (guards applied), with the node's record count. Input of the
    clustering, which needs dense vertex numbers: node_num is the node's position among
    all nodes sorted by node_sig, identifier_num the identifier's position among all
    identifiers of int_identity__identifier_guards (usable or not) sorted by
    identifier_sig. Numbering the narrow key columns here keeps wide rows out of the sort. -#}

with

nodes as {{ identity_inline() }} (

    select * from {{ ref('int_identity__nodes') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}

),

node_numbers as (

    select
        node_sig,
        row_number() over (order by node_sig) - 1 as node_num
    from nodes

),

identifier_numbers as (

    select
        identifier_sig,
        row_number() over (order by identifier_sig) - 1 as identifier_num
    from guards

),

-- both ends of every probabilistic link (int_identity__probabilistic_links)
probabilistic_ends as (

    select
        node_sig_l as node_sig,
        identifier_sig
    from {{ ref('int_identity__probabilistic_links') }}
    union all
    select
        node_sig_r as node_sig,
        identifier_sig
    from {{ ref('int_identity__probabilistic_links') }}

),

node_identifiers as (

    select
        probabilistic_ends.node_sig,
        nodes.n_records,
        probabilistic_ends.identifier_sig
    from probabilistic_ends
    inner join nodes
        on probabilistic_ends.node_sig = nodes.node_sig
    union all
    {% for t in identity_type_names() -%}
    select
        node_sig,
        n_records,
        {{ identity_signature_hash(["'" ~ t ~ "'", 'id_' ~ t]) }} as identifier_sig
    from nodes
    where id_{{ t }} is not null
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

final as (

    select
        node_identifiers.node_sig,
        guards.identifier_sig,
        node_numbers.node_num,
        identifier_numbers.identifier_num,
        guards.identifier_type,
        guards.is_anonymous_type,
        node_identifiers.n_records
    from node_identifiers
    inner join guards
        on node_identifiers.identifier_sig = guards.identifier_sig
    inner join node_numbers
        on node_identifiers.node_sig = node_numbers.node_sig
    inner join identifier_numbers
        on guards.identifier_sig = identifier_numbers.identifier_sig
    where guards.is_usable

)

select * from final
