{%- set raw_cols = source_column_names('loyalty', 'pos_transactions') %}

with

source as (
    select * from {{ source('loyalty', 'pos_transactions') }}
    where not ({{ privacy_is_erased('loyalty', 'pos_transactions') }})  -- erased people (docs/privacy.md)
),

exchange_rates as (
    select * from {{ ref('stg_seeds__exchange_rates') }}
),

keyed as (
    select
        *,
        {{ clean_text('transaction_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'transaction_id', clean_text('transaction_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ dbt.safe_cast('transacted_at', 'timestamp') }} as _transacted_at,
        {{ dbt.safe_cast('amount', 'decimal(12, 2)') }} as _amount,
        upper({{ clean_text('currency') }}) as _currency
    from keyed
),

with_rates as (
    select
        typed.*,
        exchange_rates.rate_to_base as _rate_to_base,
        typed._currency in (select known_rates.currency_code from exchange_rates as known_rates) as _is_known_currency
    from typed
    left join exchange_rates
        on typed._currency = exchange_rates.currency_code
        and cast({{ dbt.date_trunc('month', 'typed._transacted_at') }} as date) = exchange_rates.rate_month
),

final as (
    select
        _key as pos_transaction_id,
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,
        {{ clean_text('store_id') }} as store_id,
        _transacted_at as transacted_at,
        _currency as currency,
        _amount as amount,
        {{ to_base_currency('_amount', '_rate_to_base') }} as amount_base,
        {#- returns are negative; beyond +-max_plausible_amount is a typo -#}
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('transacted_at', '_transacted_at', 'transacted_at'),
            numeric_reasons('amount', '_amount', 'amount', minimum=-var('max_plausible_amount', 100000), maximum=var('max_plausible_amount', 100000)),
            currency_reasons('_currency', '_is_known_currency', '_rate_to_base', '_transacted_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from with_rates
)

select * from final
