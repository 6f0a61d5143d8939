{#- Persistent: every customer ID ever minted, with status and the ID it resolves to.
    Survives --full-refresh (full_refresh: false); replaced as a whole in one
    delete+insert per build (Spark: insert_overwrite). Reset only with `customer360 reset-ids --yes`. -#}
{{ config(
    materialized='incremental',
    schema='identity_state',
    full_refresh=false,
    incremental_strategy=state_replace_strategy(),
    unique_key='state_scope',
    on_schema_change='fail',
) }}
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
