{#-
    Right to erasure in staging (docs/privacy.md). `customer360 erase` stores HMACs of the
    erased person's record keys and identifiers in privacy.erasure_suppressions (created by
    the on-run-start hook create_privacy_state, never by a model, so --full-refresh keeps
    it). Each staging base model reads its source through
        where not ({{ privacy_is_erased('<system>', '<table>') }})
    and the model privacy_erased_rows counts the rows it removed per raw table, so that
    raw = staged + quarantined + erased still reconciles.
-#}

{#-
    Which raw columns carry what, per raw table:
      key:         the record key and how staging normalises it (record suppressions);
      parents:     {parent system.table: column} rows of an erased parent go with it;
      identifiers: {identifier type: column} normalised like int_identity__identifiers.
    Normalisers: text (trim), lower (trim + lowercase), email, phone, loyalty.
-#}
{% macro privacy_erasure_rules() -%}
    {{ return({
        'shop.customers': {'key': ['customer_id', 'text'],
            'identifiers': {'shop_customer_id': ['customer_id', 'text'], 'email': ['email', 'email'], 'phone': ['phone', 'phone_country']}},
        'shop.orders': {'key': ['order_id', 'text'],
            'identifiers': {'shop_customer_id': ['customer_id', 'text'], 'email': ['email', 'email']}},
        'shop.order_lines': {'key': ['order_line_id', 'text'], 'parents': {'shop.orders': ['order_id', 'text']}},
        'crm.contacts': {'key': ['contact_id', 'text'],
            'identifiers': {'crm_contact_id': ['contact_id', 'text'], 'email': ['email', 'email'], 'phone': ['phone', 'phone_country']}},
        'support.tickets': {'key': ['ticket_id', 'text'],
            'identifiers': {'email': ['requester_email', 'email'], 'phone': ['requester_phone', 'phone']}},
        'newsletter.subscribers': {'key': ['subscriber_id', 'text'], 'identifiers': {'email': ['email', 'email']}},
        'newsletter.email_events': {'key': ['event_id', 'text'], 'parents': {'newsletter.subscribers': ['subscriber_id', 'text']}},
        'app.users': {'key': ['login_id', 'lower'],
            'identifiers': {'app_login': ['login_id', 'lower'], 'email': ['email', 'email']}},
        'app.devices': {'key': ['device_id', 'lower'],
            'identifiers': {'device_id': ['device_id', 'lower'], 'app_login': ['login_id', 'lower']}},
        'app.events': {'key': ['event_id', 'text'], 'parents': {'app.devices': ['device_id', 'lower']},
            'identifiers': {'device_id': ['device_id', 'lower'], 'app_login': ['login_id', 'lower']}},
        'web.events': {'key': ['event_id', 'text'],
            'identifiers': {'web_cookie_id': ['cookie_id', 'lower'], 'shop_customer_id': ['user_id', 'text']}},
        'loyalty.members': {'key': ['loyalty_number', 'loyalty'],
            'identifiers': {'loyalty_number': ['loyalty_number', 'loyalty'], 'email': ['email', 'email'], 'phone': ['phone', 'phone']}},
        'loyalty.pos_transactions': {'key': ['transaction_id', 'text'],
            'identifiers': {'loyalty_number': ['loyalty_number', 'loyalty']}},
    }) }}
{%- endmacro %}

{#- a raw column normalised the way staging normalises it -#}
{% macro privacy_normalized(column, normalizer) -%}
    {%- if normalizer == 'text' -%}{{ clean_text(column) }}
    {%- elif normalizer == 'lower' -%}lower({{ clean_text(column) }})
    {%- elif normalizer == 'email' -%}{{ normalize_email(column) }}
    {%- elif normalizer == 'phone' -%}{{ normalize_phone(column) }}
    {%- elif normalizer == 'phone_country' -%}{{ normalize_phone(column, 'country_code') }}
    {%- elif normalizer == 'loyalty' -%}{{ normalize_loyalty_number(column) }}
    {%- else -%}{{ exceptions.raise_compiler_error("privacy_normalized: unknown normaliser " ~ normalizer) }}
    {%- endif -%}
{%- endmacro %}

{#- the suppression table, or none before the first erasure request (or at parse time) -#}
{% macro privacy_suppressions_relation() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='privacy', identifier='erasure_suppressions') -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {%- set n = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {{ return(relation if n > 0 else none) }}
{%- endmacro %}

{#-
    A boolean SQL expression over the raw columns of `system`.`table`: true when the row
    belongs to an erased person (its record key, a parent's key or one of its identifiers
    is suppressed). `false` when nothing was ever erased, so builds without erasure
    requests pay nothing.
-#}
{% macro privacy_is_erased(system, table) -%}
    {%- set rules = privacy_erasure_rules()[system ~ '.' ~ table] -%}
    {%- set relation = privacy_suppressions_relation() -%}
    {%- if relation is none -%}
        false
    {%- else -%}
        {%- set present = source_column_names(system, table) -%}
        {%- set checks = [] -%}
        {%- set key = rules['key'] -%}
        {%- do checks.append(privacy_suppressed(relation, 'record', system ~ '.' ~ table, privacy_normalized(key[0], key[1]))) -%}
        {%- for parent, col in rules.get('parents', {}).items() if col[0] in present -%}
            {%- do checks.append(privacy_suppressed(relation, 'record', parent, privacy_normalized(col[0], col[1]))) -%}
        {%- endfor -%}
        {%- for type, col in rules.get('identifiers', {}).items() if col[0] in present -%}
            {%- do checks.append(privacy_suppressed(relation, 'identifier', type, privacy_normalized(col[0], col[1]))) -%}
        {%- endfor -%}
        coalesce({{ checks | join(' or ') }}, false)
    {%- endif -%}
{%- endmacro %}

{% macro privacy_suppressed(relation, kind, scope, value_expression) -%}
    coalesce({{ hmac_sha256(value_expression) }} in (
        select value_hmac from {{ relation }}
        where suppression_kind = '{{ kind }}' and scope = '{{ scope }}'
    ), false)
{%- endmacro %}
