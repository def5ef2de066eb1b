{#- Spark reads a file's bytes with the binaryFile source (one row, `content` binary);
    substring of a binary is 1-based like DuckDB's slice. -#}
{% macro spark__file_fingerprint(path, length=none) -%}
    {%- set last = length if length is not none else 'length(content)' -%}
    select
        length as size_bytes,
        md5(substring(content, 1, {{ last }})) as content_hash,
        coalesce({{ last }} > 0 and substring(content, {{ last }}, 1) = x'0A', false) as ends_with_line_break
    from binaryFile.`{{ path }}`
{%- endmacro %}
