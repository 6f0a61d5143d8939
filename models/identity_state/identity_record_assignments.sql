{#- The customer ID of every record at the end of this build; the next build compares its
    clusters with the committed copy (identity_state). Written to identity_state_pending;
    committed when the build passed (customer360.build_state). -#}
-- depends_on: {{ ref('int_identity__id_changes') }}

with

source_map as (

    select * from {{ ref('customer_source_map') }}

),

final as (

    select
        'current' as state_scope,
        record_id,
        customer_id
    from source_map

)

select * from final
