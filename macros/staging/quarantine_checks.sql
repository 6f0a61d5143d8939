{#-
    Building blocks of the staging layer's quarantine logic. Each *_reasons macro returns
    one or more comma-separated `case when <problem> then '<reason>' end` expressions for
    use inside collect_reasons(); a row whose reasons are all null is staged, any other
    row is quarantined with the reasons joined by ', '.
    Reason codes: missing_primary_key, conflicting_duplicate_key, exact_duplicate,
    <col>_missing, <col>_unparseable, <col>_unreadable_time_zone, <col>_in_future,
    <col>_before_1990, <col>_not_a_number, <col>_rounded (a fraction where a whole number
    or more decimals than the type holds), <col>_negative, <col>_out_of_range,
    <col>_absurd, unknown_currency, no_exchange_rate, login_id_<issue> (a look-alike
    login: identifier_issue).
-#}

{#- null/blank -> null, else the trimmed text -#}
{% macro clean_text(col) -%}
    nullif(trim(cast({{ col }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- the earliest time a record may carry (older values are typos or defaults) -#}
{% macro min_plausible_timestamp() -%}
    cast('{{ var("min_plausible_date", "1990-01-01") }}' as timestamp)
{%- endmacro %}

{#- the latest time a record may carry: build time plus a day of clock skew -#}
{% macro max_plausible_timestamp() -%}
    {%- if var('max_plausible_timestamp', none) is not none -%}
        cast('{{ var("max_plausible_timestamp") }}' as timestamp)
    {%- else -%}
        cast({{ dbt.dateadd('day', 1, dbt.current_timestamp()) }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- ', '-joined reason codes, or null when there is none -#}
{% macro collect_reasons(reason_expressions) -%}
    nullif(concat_ws(', ', {{ reason_expressions | join(', ') }}), '')
{%- endmacro %}

{#- key + duplicate problems; expects columns _key, _has_conflicting_duplicate, _copy_number -#}
{% macro key_reasons() -%}
    case when _key is null then 'missing_primary_key' end,
    case when _key is not null and _has_conflicting_duplicate then 'conflicting_duplicate_key' end,
    case when _key is not null and not _has_conflicting_duplicate and _copy_number > 1 then 'exact_duplicate' end
{%- endmacro %}

{#-
    Window columns for duplicate detection, computed in one pass per key:
    _has_conflicting_duplicate: the key occurs with different content;
    _copy_number: 1 for the first copy of a row, 2.. for exact copies.
-#}
{% macro duplicate_columns(key='_key', fingerprint='_fingerprint') -%}
    min({{ fingerprint }}) over (partition by {{ key }})
        <> max({{ fingerprint }}) over (partition by {{ key }}) as _has_conflicting_duplicate,
    row_number() over (partition by {{ key }} order by {{ fingerprint }}) as _copy_number
{%- endmacro %}

{% macro timestamp_reasons(raw, typed, name, required=true) -%}
    {%- if required -%}
    case when {{ clean_text(raw) }} is null then '{{ name }}_missing' end,
    {% endif -%}
    case when {{ clean_text(raw) }} is not null and {{ typed }} is null then
        case when {{ has_unreadable_time_zone(raw) }} then '{{ name }}_unreadable_time_zone' else '{{ name }}_unparseable' end
    end,
    case when {{ typed }} > {{ max_plausible_timestamp() }} then '{{ name }}_in_future' end,
    case when {{ typed }} < {{ min_plausible_timestamp() }} then '{{ name }}_before_1990' end
{%- endmacro %}

{% macro numeric_reasons(raw, typed, name, required=true, minimum=none, maximum=none) -%}
    {%- if required -%}
    case when {{ clean_text(raw) }} is null then '{{ name }}_missing' end,
    {% endif -%}
    case when {{ clean_text(raw) }} is not null and {{ typed }} is null then '{{ name }}_not_a_number' end,
    {#- the cast rounds (2.5 -> 3 for an integer, 12.345 -> 12.35 for decimal(12, 2)):
        never stage a plausible wrong value -#}
    case when {{ typed }} is not null
        and try_cast({{ clean_text(raw) }} as double) <> cast({{ typed }} as double)
        then '{{ name }}_rounded' end
    {%- if minimum is not none %},
    case when {{ typed }} < {{ minimum }} then '{{ name }}_{{ "negative" if minimum == 0 else "out_of_range" }}' end
    {%- endif %}
    {%- if maximum is not none %},
    case when {{ typed }} > {{ maximum }} then '{{ name }}_{{ "absurd" if minimum is none or minimum <= 0 else "out_of_range" }}' end
    {%- endif %}
{%- endmacro %}

{#- expects the joined rate column `rate_to_base` and the known-currency flag -#}
{% macro currency_reasons(currency, is_known_currency, rate_to_base, at) -%}
    case when not coalesce({{ is_known_currency }}, false) then 'unknown_currency' end,
    case when {{ is_known_currency }} and {{ at }} is not null and {{ rate_to_base }} is null then 'no_exchange_rate' end
{%- endmacro %}
