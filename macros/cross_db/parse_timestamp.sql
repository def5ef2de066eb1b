{#- Parses text into a local timestamp by trying each strptime format in order;
    null when none matches. Formats with an offset (%z) yield an instant, which
    is converted to the shop's local time zone var('shop_timezone'). -#}
{% macro parse_timestamp(text_expression, formats) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_segmentation')(text_expression, formats)) }}
{%- endmacro %}

{% macro default__parse_timestamp(text_expression, formats) -%}
    {{ exceptions.raise_compiler_error("parse_timestamp is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(text_expression, formats) -%}
    {%- set quoted = [] -%}
    {%- set ns = namespace(has_offset=false) -%}
    {%- for format in formats -%}
        {%- do quoted.append("'" ~ format ~ "'") -%}
        {%- if '%z' in format or '%Z' in format -%}{%- set ns.has_offset = true -%}{%- endif -%}
    {%- endfor -%}
    {%- set parsed = "try_strptime(" ~ text_expression ~ ", [" ~ quoted | join(', ') ~ "])" -%}
    {%- if ns.has_offset -%}
        timezone('{{ var("shop_timezone") }}', {{ parsed }})
    {%- else -%}
        {{ parsed }}
    {%- endif -%}
{%- endmacro %}
