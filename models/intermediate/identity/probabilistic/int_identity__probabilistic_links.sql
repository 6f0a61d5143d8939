{#- The probabilistic links (pairs of int_identity__probabilistic_pairs at or above the
    declared match probability, not vetoed) as identifiers of the identity graph: each link
    is one identifier of type `probabilistic` carried by its two record nodes, so it goes
    through the same clustering, unique-namespace cuts and giant-cluster check as an
    e-mail. identifier_value names the link: `(weight W) <record> ~ <record>`. -#}

with

pairs as (

    select * from {{ ref('int_identity__probabilistic_pairs') }}
    where is_link

),

records as (

    select
        record_id,
        node_sig
    from {{ ref('int_identity__probabilistic_records') }}

),

named as (

    select
        pairs.record_id_l,
        pairs.record_id_r,
        left_records.node_sig as node_sig_l,
        right_records.node_sig as node_sig_r,
        pairs.match_weight,
        pairs.match_probability,
        pairs.model_version,
        {{ dbt.concat([
            "'(weight '", "cast(round(pairs.match_weight, 2) as " ~ dbt.type_string() ~ ")",
            "') '", 'pairs.record_id_l', "' ~ '", 'pairs.record_id_r',
        ]) }} as identifier_value
    from pairs
    inner join records as left_records
        on pairs.record_id_l = left_records.record_id
    inner join records as right_records
        on pairs.record_id_r = right_records.record_id

),

final as (

    select
        {{ identity_signature_hash(["'probabilistic'", 'identifier_value']) }} as identifier_sig,
        'probabilistic' as identifier_type,
        identifier_value,
        record_id_l,
        record_id_r,
        node_sig_l,
        node_sig_r,
        match_weight,
        match_probability,
        model_version
    from named

)

select * from final
