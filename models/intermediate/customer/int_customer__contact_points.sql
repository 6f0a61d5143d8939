{#- The e-mail and the phone of each customer: the most recently observed value on any of
    the customer's records that is not blocklisted (int_identity__identifier_guards);
    ties: the smaller value. One row per customer and type (email, phone). -#}
with

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

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

candidates as (

    select
        assignment.customer_id,
        node_contact_points.identifier_type,
        node_contact_points.identifier_value,
        node_contact_points.observed_at
    from node_contact_points
    inner join guards
        on node_contact_points.identifier_sig = guards.identifier_sig
    inner join assignment
        on node_contact_points.cluster_num = assignment.cluster_num
    where not guards.is_blocklisted

),

final as (

    {{ survivorship_pick(
        'candidates',
        partition_by='customer_id, identifier_type',
        order_by='observed_at desc, identifier_value asc',
        columns=['customer_id', 'identifier_type', 'identifier_value', 'observed_at'],
    ) | indent(4) }}

)

select * from final
