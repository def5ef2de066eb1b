{#- A query of one row describing the bytes of one file as they are on disk: `size_bytes`
    (the whole file), `content_hash` (md5 of its first `length` bytes, all of them when
    `length` is none) and `ends_with_line_break` (whether the byte at `length`, or the last
    byte, is a line feed). What stg_shop__loaded_files records of every file staged, and
    what an incremental run of stg_shop__transactions compares with it. -#}
{% macro file_fingerprint(path, length=none) -%}
    {{ return(adapter.dispatch('file_fingerprint', 'customer_segmentation')(path, length)) }}
{%- endmacro %}

{% macro default__file_fingerprint(path, length=none) -%}
    {{ exceptions.raise_compiler_error("file_fingerprint is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- read_blob holds the file's bytes; a blob is sliced with [first:last] (1-based, inclusive). -#}
{% macro duckdb__file_fingerprint(path, length=none) -%}
    {%- set last = length if length is not none else 'size' -%}
    select
        size as size_bytes,
        md5(content[1:{{ last }}]) as content_hash,
        coalesce({{ last }} > 0 and content[{{ last }}:{{ last }}] = '\x0A'::blob, false) as ends_with_line_break
    from read_blob({{ text_literal(path) }})
{%- endmacro %}

{#- The source read from only some of its files (`files`: rows with file_number and
    file_path, in order), for an incremental run that needs only the last staged file and
    the new ones; none when the adapter reads the whole source (then every line is
    numbered and the new ones kept). -#}
{% macro source_files_subset(relation, files) -%}
    {{ return(adapter.dispatch('source_files_subset', 'customer_segmentation')(relation, files)) }}
{%- endmacro %}

{% macro default__source_files_subset(relation, files) -%}
    {{ return(none) }}
{%- endmacro %}

{#- The source is a read_csv(...) or read_parquet(...) call whose first argument is the
    path or glob: it becomes the list of the files (or of their UTF-8 copies, which
    stg_shop__source_files names <index, 6 digits>_<name without compression suffix>). -#}
{% macro duckdb__source_files_subset(relation, files) -%}
    {%- set text = relation | string -%}
    {%- set start = text.find("('") -%}
    {%- set end = text.find("'", start + 2) -%}
    {%- if not (text.startswith('read_csv(') or text.startswith('read_parquet(')) or start < 0 or end < 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set read_path = text[start + 2:end] -%}
    {%- set copies = (var('raw_copy_directory') or (target.path ~ '.source')) ~ '/*' -%}
    {%- set literals = [] -%}
    {%- for file in files -%}
        {%- if read_path == copies -%}
            {%- set name = modules.re.sub('[.](gz|bz2|xz|lzma)$', '', file['file_path'].split('/')[-1]) -%}
            {%- do literals.append(text_literal(copies[:-1] ~ ('%06d' | format(file['file_number'] - 1)) ~ '_' ~ name)) -%}
        {%- else -%}
            {%- do literals.append(text_literal(file['file_path'])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set listed = literals[0] if literals | length == 1 else '[' ~ literals | join(', ') ~ ']' -%}
    {{ return(text[:start + 1] ~ listed ~ text[end + 1:]) }}
{%- endmacro %}
