{#- Monthly exchange rates re-based to var `base_currency`, from the user's rates table
    (var `exchange_rates_path`, set by `exchange_rates:` in the project config) or else the
    exchange_rates seed. The base currency itself has rate 1 in every month from
    var `min_plausible_date` to ten years ahead, so amounts already in the base currency
    never need a rate (also outside the table's months). -#}
{%- set base_currency = var("base_currency", "EUR") | upper %}
{%- set rates_path = var("exchange_rates_path", none) %}
{%- set first_day = "cast('" ~ var('min_plausible_date', '1990-01-01') ~ "' as date)" %}

with

{% if rates_path -%}
user_rates as (
    -- any day of the month is accepted; several rates in a month are averaged
    select
        try_cast(rate_month as date) as rate_day,
        upper(trim(currency_code)) as currency_code,
        try_cast(eur_per_unit as decimal(18, 6)) as eur_per_unit
    from read_csv('{{ rates_path }}', header=true, all_varchar=true, delim=',', quote='"', escape='"', comment='')
),

exchange_rates as (
    select
        cast({{ dbt.date_trunc('month', 'rate_day') }} as date) as rate_month,
        currency_code,
        cast(avg(eur_per_unit) as decimal(18, 6)) as eur_per_unit
    from user_rates
    group by 1, 2
),
{%- else -%}
exchange_rates as (
    select * from {{ ref('exchange_rates') }}
),
{%- endif %}

base_rate as (
    select
        rate_month,
        eur_per_unit as base_eur_per_unit
    from exchange_rates
    where currency_code = '{{ base_currency }}'
),

converted as (
    select
        exchange_rates.rate_month,
        exchange_rates.currency_code,
        exchange_rates.eur_per_unit,
        cast(exchange_rates.eur_per_unit / base_rate.base_eur_per_unit as decimal(18, 8))
            as rate_to_base
    from exchange_rates
    inner join base_rate on exchange_rates.rate_month = base_rate.rate_month
    where exchange_rates.currency_code <> '{{ base_currency }}'
),

base_months as (
    select cast(month_start as date) as rate_month
    from
        generate_series(
            cast({{ dbt.date_trunc('month', first_day) }} as date),
            cast({{ dbt.date_trunc('month', 'current_date') }} as date) + interval 10 year,
            interval 1 month
        ) as months (month_start)
),

base_currency_rows as (
    select
        base_months.rate_month,
        '{{ base_currency }}' as currency_code,
        base_rate.base_eur_per_unit as eur_per_unit,
        cast(1 as decimal(18, 8)) as rate_to_base
    from base_months
    left join base_rate on base_months.rate_month = base_rate.rate_month
),

final as (
    select * from converted
    union all
    select * from base_currency_rows
)

select * from final
