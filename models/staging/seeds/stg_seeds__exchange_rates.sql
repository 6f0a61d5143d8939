with

exchange_rates as (
    select * from {{ ref('exchange_rates') }}
),

base_rate as (
    select
        rate_month,
        eur_per_unit as base_eur_per_unit
    from exchange_rates
    where currency_code = '{{ var("base_currency", "EUR") | upper }}'
),

final as (
    select
        exchange_rates.rate_month,
        exchange_rates.currency_code,
        exchange_rates.eur_per_unit,
        cast(exchange_rates.eur_per_unit / base_rate.base_eur_per_unit as decimal(18, 8))
            as rate_to_base
    from exchange_rates
    inner join base_rate on exchange_rates.rate_month = base_rate.rate_month
)

select * from final
