{#- Audit of the probabilistic tier: every probabilistic link (a scored pair at or above
    the declared match probability, not vetoed) with its weight, probability, the stored
    model version that scored it, the blocking rule that found it, the level and weight
    of every comparison behind it, whether the guards cut it (unique namespace) and the
    customer each record ended in. Restricted (raw record ids; not published). -#}

with

pairs as (

    select * from {{ ref('int_identity__probabilistic_pairs') }}
    where is_link

),

links as (

    select
        record_id_l,
        record_id_r,
        identifier_sig,
        identifier_value
    from {{ ref('int_identity__probabilistic_links') }}

),

cut_links as (

    select
        identifier_sig,
        min(cut_reason) as cut_reason
    from {{ ref('int_identity__components') }}
    where is_cut_link
    group by identifier_sig

),

source_map as (

    select
        record_id,
        customer_id
    from {{ ref('customer_source_map') }}

),

final as (

    select
        links.identifier_value as link,
        pairs.*,
        cut_links.identifier_sig is not null as is_cut,
        cut_links.cut_reason,
        left_map.customer_id as customer_id_l,
        right_map.customer_id as customer_id_r
    from pairs
    inner join links
        on pairs.record_id_l = links.record_id_l
        and pairs.record_id_r = links.record_id_r
    left join cut_links
        on links.identifier_sig = cut_links.identifier_sig
    left join source_map as left_map
        on pairs.record_id_l = left_map.record_id
    left join source_map as right_map
        on pairs.record_id_r = right_map.record_id

)

select * from final
