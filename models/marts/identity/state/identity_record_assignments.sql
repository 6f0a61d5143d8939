{#- Persistent: the customer ID every known record had at the end of the last build; the
    next build compares its clusters with it. Survives --full-refresh (full_refresh:
    false); replaced as a whole in one delete+insert per build. -#}
{{ config(
    materialized='incremental',
    schema='identity_state',
    full_refresh=false,
    incremental_strategy='delete+insert',
    unique_key='state_scope',
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('int_identity__id_changes') }}

with

clusters as (

    select * from {{ ref('int_identity__clusters') }}
    where is_known

),

assignment as (

    select * from {{ ref('int_identity__id_assignment') }}

),

final as (

    select
        'current' as state_scope,
        clusters.record_id,
        assignment.customer_id
    from clusters
    inner join assignment
        on clusters.cluster_key = assignment.cluster_key

)

select * from final
