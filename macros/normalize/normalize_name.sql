{#-
    normalize_name(col): a name in comparable form: casefolded, German umlauts
    transliterated (ä->ae, ö->oe, ü->ue, ß->ss) before other accents are stripped
    (é->e, ł->l), whitespace collapsed and trimmed; null when blank.
    Müller, MUELLER and ' mueller ' all become 'mueller'.
-#}

{% macro normalize_name(col) -%}
    {{ return(adapter.dispatch('normalize_name', 'customer360')(col)) }}
{%- endmacro %}

{% macro default__normalize_name(col) -%}
    {%- set folded = "replace(replace(replace(replace(replace(lower(" ~ col ~ "), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss'), 'ẞ', 'ss')" -%}
    nullif(trim({{ collapse_whitespace(strip_accents(folded)) }}), '')
{%- endmacro %}
