{#-
    The few engine-specific string functions the staging layer needs, behind
    adapter.dispatch so that a Spark (or other) implementation can be added without
    touching the models. Each returns a SQL expression.
-#}

{#- true when the whole string matches the (RE2/Java) regular expression -#}
{% macro regexp_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'customer360')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- `pattern` is written for a standard SQL string literal (a backslash is literal, a
    quote is doubled), as DuckDB reads it; Spark's literals treat a backslash as an escape
    and '' as the end of one literal and the start of the next. -#}
{% macro spark__regexp_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ spark_string_literal_body(pattern) }})$')
{%- endmacro %}

{#- a standard SQL string literal body as the body of a Spark string literal -#}
{% macro spark_string_literal_body(text) -%}
    {{- text | replace('\\', '\\\\') | replace("''", "\\'") -}}
{%- endmacro %}


{#- the string with every character that is not 0-9 removed -#}
{% macro digits_only(expr) -%}
    {{ return(adapter.dispatch('digits_only', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__digits_only(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '', 'g')
{%- endmacro %}

{% macro spark__digits_only(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '')
{%- endmacro %}


{#- runs of whitespace collapsed to one space -#}
{% macro collapse_whitespace(expr) -%}
    {{ return(adapter.dispatch('collapse_whitespace', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__collapse_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\s+', ' ', 'g')
{%- endmacro %}

{% macro spark__collapse_whitespace(expr) -%}
    regexp_replace({{ expr }}, '\\s+', ' ')
{%- endmacro %}


{#- diacritics removed (é -> e, å -> a); DuckDB has strip_accents built in -#}
{% macro strip_accents(expr) -%}
    {{ return(adapter.dispatch('strip_accents', 'customer360')(expr)) }}
{%- endmacro %}

{% macro default__strip_accents(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}

{#- DuckDB's strip_accents decomposes (NFD) and drops the combining marks; Spark has no
    Unicode normalisation in SQL, so translate() maps every precomposed letter of Latin-1,
    Latin Extended-A/B and Latin Extended Additional (U+00C0-U+024F, U+1E00-U+1EFF) that
    DuckDB changes to what DuckDB makes of it (letters it keeps, such as ø, ł, ß, stay).
    The two lists are position-aligned; test_spark.py checks every character against
    DuckDB on Spark. -#}
{% macro spark__strip_accents(expr) -%}
    {%- set accented = 'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǢǣǦǧǨǩǪǫǬǭǮǯǰǴǵǸǹǺǻǼǽǾǿȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳḀḁḂḃḄḅḆḇḈḉḊḋḌḍḎḏḐḑḒḓḔḕḖḗḘḙḚḛḜḝḞḟḠḡḢḣḤḥḦḧḨḩḪḫḬḭḮḯḰḱḲḳḴḵḶḷḸḹḺḻḼḽḾḿṀṁṂṃṄṅṆṇṈṉṊṋṌṍṎṏṐṑṒṓṔṕṖṗṘṙṚṛṜṝṞṟṠṡṢṣṤṥṦṧṨṩṪṫṬṭṮṯṰṱṲṳṴṵṶṷṸṹṺṻṼṽṾṿẀẁẂẃẄẅẆẇẈẉẊẋẌẍẎẏẐẑẒẓẔẕẖẗẘẙẛẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ' -%}
    {%- set stripped = 'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaÆæGgKkOoOoƷʒjGgNnAaÆæØøAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYyAaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMmMmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVvWwWwWwWwWwXxXxYyZzZzZzhtwyſAaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEeEeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy' -%}
    {%- if accented | length != stripped | length -%}
        {{ exceptions.raise_compiler_error("spark__strip_accents: character lists differ in length") }}
    {%- endif -%}
    translate({{ expr }}, '{{ accented }}', '{{ stripped }}')
{%- endmacro %}


{#- a fast 64-bit fingerprint of a row's columns (to tell exact from conflicting duplicates) -#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'customer360')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    hash({% for c in columns %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    xxhash64({% for c in columns %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}


{#-
    let(value, name, body): evaluates `value` once and binds it to `name` inside `body`
    (a SQL expression). Keeps nested normalisation expressions linear in size instead of
    repeating sub-expressions textually.
-#}
{% macro let(value, name, body) -%}
    {{ return(adapter.dispatch('let', 'customer360')(value, name, body)) }}
{%- endmacro %}

{% macro default__let(value, name, body) -%}
    list_transform([{{ value }}], lambda {{ name }}: {{ body }})[1]
{%- endmacro %}

{% macro spark__let(value, name, body) -%}
    transform(array({{ value }}), {{ name }} -> {{ body }})[0]
{%- endmacro %}
