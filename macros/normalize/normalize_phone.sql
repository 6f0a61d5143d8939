{#-
    normalize_phone(col, country_col=none): a phone number in E.164 ('+4930123456'), or
    null when it cannot be a real number.

    Numbering plans of every country come from the phonenumbers package (Google's
    libphonenumber metadata), generated into macros/normalize/phone_numbering_plans.sql by
    scripts/generate_phone_metadata.py: the calling code, the national trunk prefix and
    the pattern of a valid national significant number (NSN) of each region.

    Accepts '+' and '00' international forms and national forms with or without the trunk
    prefix ('030 ...' in DE, '1-212-...' in the US), with spaces, brackets, dashes, dots,
    slashes and the '(0)' of '+49 (0)30 ...'. A national number takes the record's country
    (country_col, ISO 3166-1 alpha-2; 'UK' reads as GB) or else var `default_country`; an
    international one finds its calling code itself (calling codes are prefix-free).
    Rejected (null): letters or other characters, an extension glued to the number ('ext
    5', 'x12', '#3', ';ext=2': never a plausible wrong number), an NSN that does not fit
    the country's plan, more than 15 digits, NSNs of one repeated digit ('0000000000') or
    a plain counting sequence.

    is_valid_phone(col, country_col=none, normalized=none): null when no phone was given,
    else whether it normalises (pass `normalized`, an already computed normalize_phone
    column, to avoid computing it twice).
-#}

{#- SQL: the calling code of a region expression, null for an unknown region -#}
{% macro phone_country_calling_code(country_expr) -%}
    case {{ country_expr }}
    {%- for region, plan in phone_region_plans().items() %}
        when '{{ region }}' then '{{ plan[0] }}'
    {%- endfor %}
        when 'UK' then '44'
    end
{%- endmacro %}

{#- SQL: the national trunk prefix of a region expression ('' if none) -#}
{% macro phone_region_trunk_prefix(country_expr) -%}
    case {{ country_expr }}
    {%- for region, plan in phone_region_plans().items() if plan[1] %}
        when '{{ region }}' then '{{ plan[1] }}'
    {%- endfor %}
        when 'UK' then '0'
        else ''
    end
{%- endmacro %}

{#- SQL: whether `nsn` is a valid national significant number of region `country_expr` -#}
{% macro phone_valid_for_region(nsn, country_expr) -%}
    case {{ country_expr }}
    {%- for region, plan in phone_region_plans().items() %}
        when '{{ region }}' then {{ regexp_full_match(nsn, plan[2]) }}
    {%- endfor %}
        when 'UK' then {{ regexp_full_match(nsn, phone_region_plans()['GB'][2]) }}
        else false
    end
{%- endmacro %}

{#- SQL: the calling code a digit string (after '+') starts with, null if none -#}
{% macro phone_calling_code_of(digits) -%}
    {%- set codes = phone_calling_code_patterns().keys() | list -%}
    case
    {%- for n in [1, 2, 3] %}
        when substr({{ digits }}, 1, {{ n }}) in ({% for c in codes if c | length == n %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}) then substr({{ digits }}, 1, {{ n }})
    {%- endfor %}
    end
{%- endmacro %}

{#- SQL: whether `nsn` is a valid NSN of any region with calling code `code_expr` -#}
{% macro phone_valid_for_calling_code(nsn, code_expr) -%}
    case {{ code_expr }}
    {%- for code, pattern in phone_calling_code_patterns().items() %}
        when '{{ code }}' then {{ regexp_full_match(nsn, pattern) }}
    {%- endfor %}
        else false
    end
{%- endmacro %}

{% macro normalize_phone(col, country_col=none) -%}
    {{ return(adapter.dispatch('normalize_phone', 'customer360')(col, country_col)) }}
{%- endmacro %}

{% macro default__normalize_phone(col, country_col=none) -%}
    {%- set default_country = "'" ~ (var('default_country', 'DE') | upper) ~ "'" -%}
    {%- if country_col is none -%}
        {%- set country = default_country -%}
    {%- else -%}
        {#- the record's country when the plans know it, else the default -#}
        {%- set record_country = "nullif(upper(trim(" ~ country_col ~ ")), '')" -%}
        {%- set country = "coalesce(case when " ~ record_country ~ " in (" ~ (phone_region_plans().keys() | map('tojson') | join(', ') | replace('"', "'")) ~ ", 'UK') then " ~ record_country ~ " end, " ~ default_country ~ ")" -%}
    {%- endif -%}
    {#- digits only: the allowed separators are removed (characters were validated first) -#}
    {%- set digits = "replace(replace(replace(replace(replace(replace(replace(replace(_ph_raw, '(0)', ''), ' ', ''), '(', ''), ')', ''), '-', ''), '.', ''), '/', ''), '+', '')" -%}
    {#- international: '+' or '00', digits after it start with the calling code; the
        NSN is the rest, or the rest without a trunk 0 written after the code -#}
    {%- set international -%}
        {{ let("case when _ph_raw like '+%' then _ph_digits else substr(_ph_digits, 3) end", '_ph_i',
           let(phone_calling_code_of('_ph_i'), '_ph_icc',
               "[_ph_icc, list_filter(list_filter([substr(_ph_i, length(_ph_icc) + 1), substr(_ph_i, length(_ph_icc) + 2)],
                    lambda _ph_n: substr(_ph_i, length(_ph_icc) + 1) = _ph_n or substr(_ph_i, length(_ph_icc) + 1) like '0%'),
                    lambda _ph_n: " ~ phone_valid_for_calling_code('_ph_n', '_ph_icc') ~ ")[1]]")) }}
    {%- endset -%}
    {#- national: the region's trunk prefix dropped when the rest is a valid NSN, else
        the digits as they are -#}
    {%- set national -%}
        {{ let(phone_region_trunk_prefix('_ph_region'), '_ph_trunk',
               "[" ~ phone_country_calling_code('_ph_region') ~ ", list_filter([
                    case when _ph_trunk <> '' and starts_with(_ph_digits, _ph_trunk) then substr(_ph_digits, length(_ph_trunk) + 1) end,
                    _ph_digits
                ], lambda _ph_n: _ph_n is not null and " ~ phone_valid_for_region('_ph_n', '_ph_region') ~ ")[1]]") }}
    {%- endset -%}
    {%- set checked -%}
        case
            when _ph_parts is null or _ph_parts[1] is null or _ph_parts[2] is null then null
            when length(_ph_parts[1] || _ph_parts[2]) > 15 then null
            when replace(_ph_parts[2], substr(_ph_parts[2], 1, 1), '') = '' then null
            when _ph_parts[2] in ('123456789', '1234567890', '0123456789', '987654321', '9876543210', '12345678', '23456789') then null
            else '+' || _ph_parts[1] || _ph_parts[2]
        end
    {%- endset -%}
    {%- set body -%}
        case
            when _ph_raw is null or _ph_raw = '' then null
            when regexp_matches(lower(_ph_raw), '[0-9]\s*(ext\.?|extension|x|#|;\s*ext=|,)\s*[0-9]+\s*$') then null
            when not {{ regexp_full_match('_ph_raw', "\\+?[0-9 ()./-]+") }} then null
            else {{ let(digits, '_ph_digits',
                     let(country, '_ph_region',
                     let("case when _ph_raw like '+%' or _ph_digits like '00%' then (" ~ international ~ ") else (" ~ national ~ ") end", '_ph_parts',
                         checked))) }}
        end
    {%- endset -%}
    {{ let("trim(cast(" ~ col ~ " as " ~ dbt.type_string() ~ "))", '_ph_raw', body) }}
{%- endmacro %}


{% macro is_valid_phone(col, country_col=none, normalized=none) -%}
    {{ return(adapter.dispatch('is_valid_phone', 'customer360')(col, country_col, normalized)) }}
{%- endmacro %}

{% macro default__is_valid_phone(col, country_col=none, normalized=none) -%}
    case
        when nullif(trim(cast({{ col }} as {{ dbt.type_string() }})), '') is null then null
        else ({{ normalized if normalized is not none else normalize_phone(col, country_col) }}) is not null
    end
{%- endmacro %}
