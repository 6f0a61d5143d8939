{#-
    normalize_phone(col, country_col=none): a phone number in E.164 ('+4930123456'), or
    null when it cannot be a real number.

    Accepts '+', '00' and national trunk-'0' forms with spaces, brackets, dashes, dots,
    slashes and the '(0)' of '+49 (0)30 ...'. A national number takes the record's
    country (country_col, ISO alpha-2) or else var `default_country`. Country rules
    (length of the national significant number, NSN): DE 6-13, AT 6-13, CH 9, GB 9-10,
    US 10 (area code 2-9); other country codes only in international form, 8-15 digits
    in total. Rejected: letters or other characters, impossible lengths, NSNs of one
    repeated digit ('0000000000') or a plain counting sequence.

    is_valid_phone(col, country_col=none, normalized=none): null when no phone was given,
    else whether it normalises (pass `normalized`, an already computed normalize_phone
    column, to avoid computing it twice).
-#}

{% macro phone_country_calling_code(country_expr) -%}
    case {{ country_expr }}
        when 'DE' then '49'
        when 'AT' then '43'
        when 'CH' then '41'
        when 'GB' then '44'
        when 'UK' then '44'
        when 'US' then '1'
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
        {%- set country = "coalesce(nullif(upper(trim(" ~ country_col ~ ")), ''), " ~ default_country ~ ")" -%}
    {%- endif -%}
    {#- digits only: the allowed separators are removed (characters were validated first) -#}
    {%- set digits = "replace(replace(replace(replace(replace(replace(replace(replace(_ph_raw, '(0)', ''), ' ', ''), '(', ''), ')', ''), '-', ''), '.', ''), '/', ''), '+', '')" -%}
    {#- digits with the country code: '+'/'00' international, else national with trunk 0 -#}
    {%- set with_country_code -%}
        case
            when _ph_raw like '+%' then _ph_digits
            when _ph_digits like '00%' then substr(_ph_digits, 3)
            when _ph_cc = '1' then
                case when length(_ph_digits) = 11 and _ph_digits like '1%' then _ph_digits
                     else '1' || _ph_digits end
            when _ph_digits like '0%' then _ph_cc || substr(_ph_digits, 2)
            else _ph_cc || _ph_digits
        end
    {%- endset -%}
    {#- '+49 030 ...': a trunk 0 written after the country code is dropped -#}
    {%- set without_trunk -%}
        case when substr(_ph_intl0, 1, 3) in ('490', '430', '410', '440')
             then substr(_ph_intl0, 1, 2) || substr(_ph_intl0, 4)
             else _ph_intl0 end
    {%- endset -%}
    {%- set intl_cc -%}
        case when _ph_intl like '1%' then '1'
             when substr(_ph_intl, 1, 2) in ('49', '43', '41', '44') then substr(_ph_intl, 1, 2)
             else '' end
    {%- endset -%}
    {%- set checked -%}
        case
            when _ph_intl is null or length(_ph_intl) > 15 then null
            when not (case _ph_icc
                    when '1' then length(_ph_nsn) = 10 and substr(_ph_nsn, 1, 1) between '2' and '9'
                    when '49' then length(_ph_nsn) between 6 and 13 and _ph_nsn not like '0%'
                    when '43' then length(_ph_nsn) between 6 and 13 and _ph_nsn not like '0%'
                    when '41' then length(_ph_nsn) = 9 and _ph_nsn not like '0%'
                    when '44' then length(_ph_nsn) between 9 and 10 and _ph_nsn not like '0%'
                    else length(_ph_intl) between 8 and 15 and _ph_intl not like '0%'
                end) then null
            when replace(_ph_nsn, substr(_ph_nsn, 1, 1), '') = '' then null
            when _ph_nsn in ('123456789', '1234567890', '0123456789', '987654321', '9876543210') then null
            else '+' || _ph_intl
        end
    {%- endset -%}
    {%- set body -%}
        case
            when _ph_raw is null or _ph_raw = '' then null
            when not {{ regexp_full_match('_ph_raw', "\\+?[0-9 ()./-]+") }} then null
            else {{ let(digits, '_ph_digits',
                     let(phone_country_calling_code(country), '_ph_cc',
                     let(with_country_code, '_ph_intl0',
                     let(without_trunk, '_ph_intl',
                     let(intl_cc, '_ph_icc',
                     let('substr(_ph_intl, length(_ph_icc) + 1)', '_ph_nsn', checked)))))) }}
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
