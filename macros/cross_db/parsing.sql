{#- Parses text into a local timestamp by trying each strptime format in order;
    null when none matches. Formats with an offset (%z) yield an instant, which
    is converted to the shop's local time zone var('shop_timezone'); values
    matched by a format without an offset are local times already and are kept
    as they are. -#}
{% macro parse_timestamp(text_expression, formats) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_segmentation')(text_expression, formats)) }}
{%- endmacro %}

{% macro default__parse_timestamp(text_expression, formats) -%}
    {{ exceptions.raise_compiler_error("parse_timestamp is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(text_expression, formats) -%}
    {%- set with_offset = [] -%}
    {%- set local = [] -%}
    {%- for format in formats -%}
        {%- if '%z' in format or '%Z' in format -%}
            {%- do with_offset.append(format) -%}
        {%- else -%}
            {%- do local.append(format) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set parsed = [] -%}
    {%- if with_offset -%}
        {%- do parsed.append(local_time("try_strptime(" ~ text_expression
            ~ ", [" ~ sql_string_list(with_offset) ~ "])")) -%}
    {%- endif -%}
    {%- if local -%}
        {%- do parsed.append("try_strptime(" ~ text_expression ~ ", [" ~ sql_string_list(local) ~ "])") -%}
    {%- endif -%}
    {{- first_non_null(parsed) -}}
{%- endmacro %}

{#- The invoice timestamp of the source column `column`, whose warehouse type is
    `data_type` (see source_column_types): a typed timestamp (Parquet, a table) is
    used as it is, an instant converted to var('shop_timezone'); text is parsed with
    var('raw_invoice_date_formats'). -#}
{% macro invoice_timestamp(column, data_type) -%}
    {%- set data_type = (data_type or 'varchar') | lower -%}
    {%- if data_type.startswith('timestamp with time zone') or data_type == 'timestamptz' -%}
        {{ local_time(adapter.quote(column)) }}
    {%- elif data_type.startswith('timestamp') or data_type == 'date' or data_type.startswith('datetime') -%}
        {{ dbt.cast(adapter.quote(column), 'timestamp') }}
    {%- else -%}
        {{ parse_timestamp(raw_text('invoice_date'), var('raw_invoice_date_formats')) }}
    {%- endif -%}
{%- endmacro %}

{#- An instant (timestamp with time zone) as the local time of var('shop_timezone'). -#}
{% macro local_time(instant_expression) -%}
    {{ return(adapter.dispatch('local_time', 'customer_segmentation')(instant_expression)) }}
{%- endmacro %}

{% macro default__local_time(instant_expression) -%}
    {{ exceptions.raise_compiler_error("local_time is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__local_time(instant_expression) -%}
    timezone('{{ var("shop_timezone") }}', {{ instant_expression }})
{%- endmacro %}

{#- True when a double is a finite number, false for NaN and the infinities, null for
    null (a text that did not read as a number). -#}
{% macro is_finite(double_expression) -%}
    {{ return(adapter.dispatch('is_finite', 'customer_segmentation')(double_expression)) }}
{%- endmacro %}

{% macro default__is_finite(double_expression) -%}
    {{ exceptions.raise_compiler_error("is_finite is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__is_finite(double_expression) -%}
    isfinite({{ double_expression }})
{%- endmacro %}
