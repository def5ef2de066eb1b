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

{#- Spark has isnan but no isfinite; isnan(null) is false, so null stays null through
    the comparison with infinity. -#}
{% macro spark__is_finite(double_expression) -%}
    (not isnan({{ double_expression }}) and abs({{ double_expression }}) != double('inf'))
{%- endmacro %}
