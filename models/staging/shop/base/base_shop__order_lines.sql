{%- set raw_cols = source_column_names('shop', 'order_lines') %}

with

source as (
    select * from {{ source('shop', 'order_lines') }}
    where not ({{ privacy_is_erased('shop', 'order_lines') }})  -- erased people (docs/privacy.md)
),

keyed as (
    select
        *,
        {{ clean_text('order_line_id') }} as _key,
        {{ raw_row_fingerprint(raw_cols, 'order_line_id', clean_text('order_line_id')) }} as _fingerprint
    from source
),

typed as (
    select
        *,
        {{ duplicate_columns() }},
        {{ dbt.safe_cast('quantity', 'integer') }} as _quantity,
        {{ dbt.safe_cast('unit_price', 'decimal(12, 2)') }} as _unit_price
    from keyed
),

final as (
    select
        _key as order_line_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        lower({{ clean_text('product_category') }}) as product_category,
        _quantity as quantity,
        _unit_price as unit_price,
        cast(_quantity * _unit_price as decimal(14, 2)) as line_total,
        {{ collect_reasons([
            key_reasons(),
            numeric_reasons('quantity', '_quantity', 'quantity', minimum=1, maximum=var('max_plausible_quantity', 1000)),
            numeric_reasons('unit_price', '_unit_price', 'unit_price', minimum=0, maximum=var('max_plausible_amount', 100000)),
        ]) }} as quarantine_reasons,
        {{ raw_column_aliases(raw_cols) }}
    from typed
)

select * from final
