{#- Every customer ID ever minted, one row each, and the current ID it resolves to: an
    active ID resolves to itself; a merged ID to the survivor (through any later merges);
    a retired or erased ID to nothing. valid_from/valid_to: when the ID was active. -#}

with

registry as (

    select * from {{ ref('identity_registry') }}

),

final as (

    select
        customer_id,
        id_seq,
        status,
        current_customer_id,
        valid_from,
        valid_to,
        first_seen_at,
        split_from_customer_id,
        merged_into_customer_id,
        merge_identifier_type,
        merge_identifier_value
    from registry

)

select * from final
