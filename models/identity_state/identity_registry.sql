{#- This build's registry: every customer ID ever minted, with status and the ID it
    resolves to. Written to identity_state_pending; committed to identity_state (which
    survives --full-refresh and is reset only with `customer360 reset-ids --yes`) when the
    build passed (customer360.build_state). -#}
-- depends_on: {{ ref('int_identity__id_changes') }}

with

registry as (

    select * from {{ ref('int_identity__registry_updated') }}

),

final as (

    select
        'current' as state_scope,
        *
    from registry

)

select * from final
