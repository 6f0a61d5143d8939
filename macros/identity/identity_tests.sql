{#- Generic data tests of the identity models (used in models/*/identity/_*__models.yml). -#}

{% macro identity_regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('identity_regex_matches', 'customer360')(expression, pattern)) }}
{%- endmacro %}

{% macro default__identity_regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__identity_regex_matches(expression, pattern) -%}
    {{ expression }} rlike '{{ spark_string_literal_body(pattern) }}'
{%- endmacro %}

{#- Every value is a customer ID in the configured format (var identity_id_format). -#}
{% test identity_customer_id_format(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and not {{ identity_regex_matches(column_name, identity_customer_id_regex()) }}
{% endtest %}

{#- Every value appears exactly once across `model` and the relations in `others`
    (e.g. a staged record is either mapped to a customer or listed as anonymous). -#}
{% test identity_accounted_once(model, column_name, others) %}
    with expected as (
        select {{ column_name }} as record_id from {{ model }}
    ),
    found as (
        {% for rel in others %}
        select {{ rel.column }} as record_id from {{ rel.relation }}
        {% if not loop.last %}union all{% endif %}
        {% endfor %}
    ),
    counted as (
        select record_id, count(*) as n_found from found group by record_id
    )
    select expected.record_id, coalesce(counted.n_found, 0) as n_found
    from expected
    full outer join counted on expected.record_id = counted.record_id
    where counted.record_id is null
       or expected.record_id is null
       or counted.n_found <> 1
{% endtest %}

{#- No customer holds two values of a unique-namespace identifier type (one shop
    account, one app login, one loyalty number ...), counted over `identifiers`. -#}
{% test identity_unique_namespaces(model, column_name, identifiers) %}
    with mapped as (
        select record_id, {{ column_name }} as customer_id from {{ model }}
    ),
    identifiers as (
        select record_id, identifier_type, identifier_value
        from {{ identifiers }}
        where {{ identity_type_attribute('identifier_type', 'unique_namespace', 'false') }}
    )
    select mapped.customer_id, identifiers.identifier_type,
           count(distinct identifiers.identifier_value) as n_values
    from mapped
    inner join identifiers on mapped.record_id = identifiers.record_id
    group by mapped.customer_id, identifiers.identifier_type
    having count(distinct identifiers.identifier_value) > 1
{% endtest %}

{#- Every current customer ID is active in the registry (so never one that was merged,
    retired or erased: IDs are not reused). -#}
{% test identity_active_in_registry(model, column_name, registry) %}
    select m.{{ column_name }}
    from {{ model }} as m
    left join {{ registry }} as r on m.{{ column_name }} = r.customer_id
    where m.{{ column_name }} is not null
      and (r.customer_id is null or r.status <> 'active')
{% endtest %}

{#- Rows whose `column_name` exceeds `max_value` (giant clusters). -#}
{% test identity_at_most(model, column_name, max_value) %}
    select * from {{ model }} where {{ column_name }} > {{ max_value }}
{% endtest %}
