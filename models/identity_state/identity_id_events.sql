{#- Persistent, append-only: every customer-ID event (minted, split, merged, retired,
    erased) of every build. Survives --full-refresh (config: dbt_project.yml, identity_state). -#}
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
