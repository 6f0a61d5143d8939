{#-
    Key rotation (`customer360 rotate-key`, docs/privacy.md): re-key the erasure
    suppressions from the old HMAC key to the new one. Suppressions are HMACs, so the
    clear value is needed: it is taken from the raw exports (which keep the erased
    person's rows; the staging filter drops them), normalised exactly as the filter
    normalises it (`privacy_erasure_rules`). For every (kind, scope, raw expression) the
    operation pairs hmac_old(value) with hmac_new(value) where hmac_old(value) is
    suppressed, then rewrites the suppressions and the requests' HMACs. The old key's pads
    are the session variables c360_hmac_old_ipad/opad (set by the privacy plugin from
    C360_HMAC_KEY_OLD); the new key is the current one.
    Logs one line `rekey_suppressions: <json>` with the counts; suppressions whose value is
    in no raw export (and no registry ID) cannot be re-keyed and are counted as unmatched.
-#}

{% macro hmac_sha256_old(expr) -%}
    sha256(getvariable('c360_hmac_old_opad') || unhex(sha256(getvariable('c360_hmac_old_ipad') || encode(cast({{ expr }} as varchar)))))
{%- endmacro %}

{% macro privacy_rekey_suppressions() %}
    {%- set relation = adapter.get_relation(database=target.database, schema='privacy', identifier='erasure_suppressions') -%}
    {%- if relation is none -%}
        {{ log('rekey_suppressions: {"rekeyed": 0, "unmatched": 0, "total": 0}', info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {%- set old_pad = run_query("select getvariable('c360_hmac_old_ipad') is not null").columns[0].values()[0] -%}
    {%- if not old_pad -%}
        {{ exceptions.raise_compiler_error("privacy_rekey_suppressions: no old key (C360_HMAC_KEY_OLD is not set)") }}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for source_table, rules in privacy_erasure_rules().items() | sort -%}
        {%- set system, table = source_table.split('.') -%}
        {%- set present = source_column_names(system, table) -%}
        {%- set checks = [('record', source_table, rules['key'])] -%}
        {%- for type, col in rules.get('identifiers', {}).items() if col[0] in present -%}
            {%- do checks.append(('identifier', type, col)) -%}
        {%- endfor -%}
        {%- for kind, scope, col in checks -%}
            {%- set value = privacy_normalized(col[0], col[1]) -%}
            {%- do selects.append(
                "select distinct '" ~ kind ~ "' as suppression_kind, '" ~ scope ~ "' as scope, "
                ~ hmac_sha256_old(value) ~ " as old_hmac, " ~ hmac_sha256(value) ~ " as new_hmac "
                ~ "from " ~ source(system, table) ~ " where " ~ value ~ " is not null"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set registry = adapter.get_relation(database=target.database, schema='identity_state', identifier='identity_registry') -%}
    {% set sql %}
        create or replace temp table c360_rekey_map as
        with candidates as (
            {{ selects | join('\n            union all\n            ') }}
        )
        select distinct c.suppression_kind, c.scope, c.old_hmac, c.new_hmac
        from candidates as c
        inner join {{ relation }} as s
            on s.suppression_kind = c.suppression_kind and s.scope = c.scope and s.value_hmac = c.old_hmac;

        create or replace temp table c360_rekey_ids as
        {% if registry is not none -%}
        select distinct {{ hmac_sha256_old('customer_id') }} as old_hmac, {{ hmac_sha256('customer_id') }} as new_hmac
        from {{ registry }}
        {%- else -%}
        select null::varchar as old_hmac, null::varchar as new_hmac where false
        {%- endif %};

        update {{ relation }} as s set value_hmac = m.new_hmac
        from c360_rekey_map as m
        where s.suppression_kind = m.suppression_kind and s.scope = m.scope and s.value_hmac = m.old_hmac;

        update privacy.erasure_requests as r set customer_id_hmac = m.new_hmac
        from c360_rekey_ids as m where r.customer_id_hmac = m.old_hmac;

        update privacy.erasure_requests as r set subject_hmac = m.new_hmac
        from (
            select old_hmac, new_hmac from c360_rekey_ids
            union select old_hmac, new_hmac from c360_rekey_map where suppression_kind = 'identifier'
        ) as m
        where r.subject_hmac = m.old_hmac;
    {% endset %}
    {% do run_query(sql) %}
    {%- set counts = run_query(
        "select count(*) filter (where value_hmac in (select new_hmac from c360_rekey_map)), count(*) from " ~ relation
    ).rows[0] -%}
    {#- run-operation does not commit on its own -#}
    {% do run_query("commit") %}
    {{ log('rekey_suppressions: {"rekeyed": ' ~ counts[0] ~ ', "unmatched": ' ~ (counts[1] - counts[0]) ~ ', "total": ' ~ counts[1] ~ '}', info=true) }}
{% endmacro %}
