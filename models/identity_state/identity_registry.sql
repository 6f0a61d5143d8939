{#- Persistent: every customer ID ever minted, with status and the ID it resolves to.
    Survives --full-refresh (config: dbt_project.yml, identity_state); replaced as a whole in one
    delete+insert per build
    (Spark: insert_overwrite; the strategy is dispatched by engine). Reset only with `customer360 reset-ids --yes`. -#}
{{ config(incremental_strategy=state_replace_strategy()) }}
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
