{#- This build's customer-ID events (minted, split, merged, retired). Written to
    identity_state_pending; appended to the committed identity_state.identity_id_events
    (every event of every good build) when the build passed (customer360.build_state). -#}
-- depends_on: {{ ref('identity_registry') }}
-- depends_on: {{ ref('identity_record_assignments') }}

with

changes as (

    select * from {{ ref('int_identity__id_changes') }}

),

final as (

    select * from changes

)

select * from final
