{#- Persistent: the customer ID every known record had at the end of the last build; the
    next build compares its clusters with it. Survives --full-refresh (config:
    dbt_project.yml, identity_state); replaced as a whole in one delete+insert per build
    (Spark: insert_overwrite; the strategy is dispatched by engine). -#}
{{ config(incremental_strategy=state_replace_strategy()) }}
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
