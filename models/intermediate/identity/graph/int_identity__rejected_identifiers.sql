{#- Identifier values kept out of the graph before linking (docs/identity.md, "Look-alike
    identifiers and unknown references"), one row per record and value:
    * rejected_identifier: an e-mail that is not plain ASCII as given (normalize_email
      leaves it unmatched; the reason says which look-alike: identifier_issue);
    * unknown_reference: an account id (config.meta.identity.references) that is not a
      key of the referenced source's staged records: not an identifier, not a person.
    identity_audit lists them. -#}
{%- set sources = identity_sources() %}
{#- an e-mail source is judged on its raw column (<email column>_raw) when its staging model
    keeps one; a user's model that only keeps the normalised value (docs/bring-your-own-data.md)
    has nothing raw to judge, and its look-alikes are whatever its own normalisation made -#}
{%- set email_sources = [] %}
{%- for s in sources if 'email' in s.identifiers %}
{%- set columns = adapter.get_columns_in_relation(ref(s.model)) if execute else [] %}
{%- set names = columns | map(attribute='name') | map('lower') | list %}
{%- if not execute or (s.identifiers['email'] ~ '_raw') | lower in names %}
{%- do email_sources.append(s) %}
{%- endif %}
{%- endfor %}
{#- while parsing, identity_sources() does not know the declarations yet -#}
{% for name in var('identity_source_models') -%}
-- depends_on: {{ ref(name) }}
{% endfor %}

with

{% for s in email_sources -%}
{{ s.model }}_emails as (

    select
        'rejected_identifier' as audit_kind,
        'email' as identifier_type,
        {{ s.identifiers['email'] }}_raw as identifier_value,
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        'email_' || coalesce({{ identifier_issue(s.identifiers['email'] ~ '_raw') }}, 'not_ascii') as reason
    from {{ ref(s.model) }}
    where {{ s.identifiers['email'] }}_raw is not null
        and not {{ is_ascii(s.identifiers['email'] ~ '_raw') }}

),

{% endfor -%}
{% for s in sources if s.references -%}
{%- for column, target in s.references.items() %}
{%- set referenced = sources | selectattr('model', 'equalto', target) | list %}
{{ s.model }}_{{ column }}_references as (

    select
        'unknown_reference' as audit_kind,
        '{{ column }}' as identifier_type,
        cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
        {{ identity_record_id(s.source_system, s.source_table, s.key) }} as record_id,
        'unknown_{{ column }}: no staged {{ target }} record has this key' as reason
    from {{ ref(s.model) }}
    where nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') is not null
        and {{ column }} not in (
            select known.{{ referenced[0].key if referenced else 'null' }}
            from {{ ref(target) }} as known
            where known.{{ referenced[0].key if referenced else 'null' }} is not null
        )

),

{% endfor -%}
{% endfor -%}
final as (

    {% for s in email_sources -%}
    select * from {{ s.model }}_emails
    union all
    {% endfor -%}
    {% for s in sources if s.references -%}
    {%- for column in s.references %}
    select * from {{ s.model }}_{{ column }}_references
    union all
    {% endfor -%}
    {% endfor -%}
    select
        cast(null as {{ dbt.type_string() }}) as audit_kind,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as reason
    where 1 = 0

)

select * from final
