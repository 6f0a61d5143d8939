{#- The node-identifier bipartite graph as integer pairs: one row per node and usable
    identifier it carries (guards applied), with the node's record count. Input of the
    clustering. -#}

with

nodes as {{ identity_inline() }} (

    select * from {{ ref('int_identity__nodes') }}

),

guards as (

    select * from {{ ref('int_identity__identifier_guards') }}
    where is_usable

),

node_identifiers as (

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
        guards.identifier_type,
        guards.is_anonymous_type,
        node_identifiers.n_records
    from node_identifiers
    inner join guards
        on node_identifiers.identifier_sig = guards.identifier_sig

)

select * from final
