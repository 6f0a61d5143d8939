{#-
    dbt.safe_cast on DuckDB. dbt-core's default is a plain `cast`, which fails the whole
    model on one bad value ("Conversion Error: invalid timestamp field format"); staging
    relies on a failed cast giving null so that the row is quarantined with a reason
    (<col>_unparseable, <col>_not_a_number). DuckDB's try_cast does exactly that. Other
    engines keep their adapter's safe_cast (dbt-spark: cast, null on failure).

    A cast to `timestamp` goes through utc_timestamp(): every staged timestamp is UTC.
-#}
{% macro duckdb__safe_cast(field, type) -%}
    {%- if type | lower | trim in ('timestamp', 'timestamp without time zone') -%}
        {{ utc_timestamp(field) }}
    {%- else -%}
        try_cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}

{#-
    utc_timestamp(field): a raw timestamp as a UTC `timestamp`, null when it cannot be read.
    Accepted: ISO 8601 and DuckDB's formats with a UTC offset ('2024-03-01 10:00:00+05:30',
    '...T10:00:00Z', '+0100'), with an IANA zone name ('2024-03-01 10:00:00
    Europe/Berlin'), or without either (then it is UTC already); Parquet TIMESTAMP and
    TIMESTAMP WITH TIME ZONE values. Converted through `timestamptz` and read back at
    UTC, so the result never depends on the build machine's zone (the profile pins the
    session's TimeZone to UTC as well, which is how a zone-less value is read).
-#}
{% macro utc_timestamp(field) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'customer360')(field)) }}
{%- endmacro %}

{% macro default__utc_timestamp(field) -%}
    timezone('UTC', try_cast(cast({{ field }} as {{ dbt.type_string() }}) as timestamptz))
{%- endmacro %}

{% macro spark__utc_timestamp(field) -%}
    to_utc_timestamp(cast({{ field }} as timestamp), 'UTC')
{%- endmacro %}

{#-
    has_unreadable_time_zone(field): the value carries a zone suffix that utc_timestamp
    cannot read (a misspelt or invented zone name: 'Europe/Berln', 'CEST'), while the
    date and time before it read fine: quarantined as <col>_unreadable_time_zone.
-#}
{% macro has_unreadable_time_zone(field) -%}
    {{ return(adapter.dispatch('has_unreadable_time_zone', 'customer360')(field)) }}
{%- endmacro %}

{% macro default__has_unreadable_time_zone(field) -%}
    coalesce(
        try_cast(cast({{ field }} as {{ dbt.type_string() }}) as timestamptz) is null
        and regexp_matches(trim(cast({{ field }} as {{ dbt.type_string() }})), '\s[A-Za-z][A-Za-z0-9_+/-]*$')
        and try_cast(regexp_replace(trim(cast({{ field }} as {{ dbt.type_string() }})), '\s[A-Za-z][A-Za-z0-9_+/-]*$', '') as timestamp) is not null,
        false
    )
{%- endmacro %}
