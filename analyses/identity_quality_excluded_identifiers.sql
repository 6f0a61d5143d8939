{#- Identity resolution quality, excluded identifiers: identifier values the guards kept
    from linking (blocklisted junk such as test@test.com, or a value seen on more people
    than var identity_identifier_types allows) and links cut to keep a unique namespace,
    by identifier type and reason (identity_audit). The values themselves are PII and
    appear in the analyst layer only as HMAC pseudonyms. -#}
with

audit as (

    select * from {{ ref('analyst__identity_audit') }}

),

final as (

    select
        audit_kind,
        identifier_type,
        reason,
        count(*) as audit_rows,
        count(distinct identifier_value_hmac) as identifiers,
        sum(n_records) as records_carrying,
        max(n_people) as max_people_per_identifier
    from audit
    group by audit_kind, identifier_type, reason

)

select * from final
order by audit_kind, audit_rows desc, identifier_type, reason
