{#- This build's customer-ID events (appended to identity_state.identity_id_events):
    minted (with split_from when it split off an existing customer), merged (with the
    survivor and the identifier that caused the merge) and retired (no record left). -#}

with

registry as (

    select * from {{ ref('int_identity__registry_updated') }}

),

previous_registry as (

    {{ identity_previous_state('identity_registry', identity_registry_columns()) }}

),

changed as (

    select
        registry.customer_id,
        registry.status,
        registry.split_from_customer_id,
        registry.merged_into_customer_id,
        registry.merge_identifier_type,
        registry.merge_identifier_value,
        previous_registry.customer_id is null as is_new
    from registry
    left join previous_registry
        on registry.customer_id = previous_registry.customer_id
    where previous_registry.customer_id is null
        or previous_registry.status <> registry.status

),

final as (

    select
        {{ identity_build_at() }} as event_at,
        '{{ invocation_id }}' as invocation_id,
        case
            when is_new and split_from_customer_id is not null then 'split'
            when is_new then 'minted'
            else status
        end as event_type,
        customer_id,
        case
            when is_new then split_from_customer_id
            when status = 'merged' then merged_into_customer_id
        end as related_customer_id,
        case when status = 'merged' then merge_identifier_type end as identifier_type,
        case when status = 'merged' then merge_identifier_value end as identifier_value
    from changed

)

select * from final
