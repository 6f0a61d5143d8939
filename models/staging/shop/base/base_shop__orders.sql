{%- set raw_cols = source_column_names('shop', 'orders') %}

with

source as (
    select * from {{ source('shop', 'orders') }}
    where not ({{ privacy_is_erased('shop', 'orders') }})  -- erased people (docs/privacy.md)
),

exchange_rates as (
    select * from {{ ref('stg_seeds__exchange_rates') }}
),

keyed as (
    select
        *,
        {{ clean_text('order_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'order_id', clean_text('order_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ normalize_email('email') }} as _email,
        {{ dbt.safe_cast('ordered_at', 'timestamp') }} as _ordered_at,
        {{ dbt.safe_cast('order_total', 'decimal(12, 2)') }} as _order_total,
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
        and cast({{ dbt.date_trunc('month', 'typed._ordered_at') }} as date) = exchange_rates.rate_month
),

final as (
    select
        _key as order_id,
        {{ clean_text('customer_id') }} as shop_customer_id,
        _email as email,
        {{ clean_text('email') }} as email_raw,
        {{ is_valid_email('email', normalized='_email') }} as is_email_valid,
        _ordered_at as ordered_at,
        _currency as currency,
        _order_total as order_total,
        {{ to_base_currency('_order_total', '_rate_to_base') }} as order_total_base,
        lower({{ clean_text('status') }}) as status,
        coalesce(lower({{ clean_text('status') }}) = 'refunded', false) as is_refunded,
        coalesce(lower({{ clean_text('status') }}) = 'cancelled', false) as is_cancelled,
        lower({{ clean_text('order_channel') }}) as order_channel,
        upper({{ clean_text('shipping_country') }}) as shipping_country,
        {{ collect_reasons([
            key_reasons(),
            timestamp_reasons('ordered_at', '_ordered_at', 'ordered_at'),
            numeric_reasons('order_total', '_order_total', 'order_total', minimum=0, maximum=var('max_plausible_amount', 100000)),
            currency_reasons('_currency', '_is_known_currency', '_rate_to_base', '_ordered_at'),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from with_rates
)

select * from final
