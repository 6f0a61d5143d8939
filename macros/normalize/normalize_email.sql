{#-
    normalize_email(col): the comparable form of an e-mail address, or null when the
    value is not a plausible address.
      not plain ASCII as given -> null, checked before any case folding (lower() folds
      KELVIN SIGN to k and İ to i; identity_audit names the look-alike reason, see
      identifier_issue);
      trim + lowercase; plus-tags stripped (anna+shop@x.de -> anna@x.de);
      googlemail.com -> gmail.com; dots removed from gmail local parts;
      junk addresses (var `junk_emails`, e.g. test@test.com) -> null.
    is_valid_email(col, normalized=none): null when no e-mail was given, else whether it
    normalises (pass `normalized`, an already computed normalize_email column, to avoid
    computing it twice).
-#}

{% macro normalize_email(col) -%}
    {{ return(adapter.dispatch('normalize_email', 'customer360')(col)) }}
{%- endmacro %}

{% macro default__normalize_email(col) -%}
    {%- set junk = var('junk_emails', [
        'test@test.com', 'test@test.de', 'test@example.com', 'no@email.com',
        'noemail@noemail.com', 'noemail@none.com', 'none@none.com', 'na@na.com', 'email@email.com',
        'x@x.com', 'a@a.com', 'kein@kein.de', 'keine@angabe.de']) -%}
    {%- set domain -%}
        case when _em_domain = 'googlemail.com' then 'gmail.com' else _em_domain end
    {%- endset -%}
    {%- set local -%}
        case when _em_domain in ('gmail.com', 'googlemail.com')
             then replace(split_part(split_part(_em_s, '@', 1), '+', 1), '.', '')
             else split_part(split_part(_em_s, '@', 1), '+', 1) end
    {%- endset -%}
    {%- set checked -%}
        case
            when _em_norm is null or _em_norm like '@%' then null
            when _em_norm in ({% for j in junk %}'{{ j }}'{% if not loop.last %}, {% endif %}{% endfor %}) then null
            else _em_norm
        end
    {%- endset -%}
    {%- set body -%}
        case
            when _em_s is null or length(_em_s) > 254 then null
            when not {{ regexp_full_match('_em_s', "[a-z0-9_%+''-]+(\\.[a-z0-9_%+''-]+)*@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,24}") }} then null
            else {{ let("split_part(_em_s, '@', 2)", '_em_domain',
                     let("(" ~ local ~ ") || '@' || (" ~ domain ~ ")", '_em_norm', checked)) }}
        end
    {%- endset -%}
    {#- checked before lower(): a look-alike (Kelvin sign, İ, Cyrillic а) is never folded
        into a matchable address (identifier_issue, docs/identity.md) -#}
    case when {{ is_ascii('trim(' ~ col ~ ')') }} then
        {{ let("lower(trim(" ~ col ~ "))", '_em_s', body) }}
    end
{%- endmacro %}


{% macro is_valid_email(col, normalized=none) -%}
    {{ return(adapter.dispatch('is_valid_email', 'customer360')(col, normalized)) }}
{%- endmacro %}

{% macro default__is_valid_email(col, normalized=none) -%}
    case
        when nullif(trim({{ col }}), '') is null then null
        else ({{ normalized if normalized is not none else normalize_email(col) }}) is not null
    end
{%- endmacro %}
