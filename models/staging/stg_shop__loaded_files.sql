{#- The record of what stg_shop__transactions staged: one row per file of the export as
    it was read by the last build, with the fingerprint of its bytes and of the settings
    the lines were staged with. Built after the lines (a failed staging leaves the old
    record); the next incremental run compares the export with it (macro
    staged_lines_growth). -#}
-- depends_on: {{ ref('stg_shop__transactions') }}
{#- Built alone it would record files the lines were not staged from. -#}
{%- if execute and selected_resources -%}
    {%- set staging = graph.nodes.values() | selectattr('name', 'equalto', 'stg_shop__transactions') | map(attribute='unique_id') | list -%}
    {%- if staging and staging[0] not in selected_resources -%}
        {{ exceptions.raise_compiler_error("stg_shop__loaded_files records the files stg_shop__transactions staged: build it with them (`dbt build --select stg_shop__transactions+`), not alone") }}
    {%- endif -%}
{%- endif %}
{%- set files = [] -%}
{%- if execute and not raw_source_is_table() and load_relation(ref('stg_shop__source_files')) is not none -%}
    {%- set files = run_query('select file_number, file_path from ' ~ ref('stg_shop__source_files') ~ ' order by file_number').rows | list -%}
{%- endif %}
with

audited as (

    select
        file_number,
        file_path,
        file_format,
        records
    from {{ ref('stg_shop__source_files') }}

),

fingerprints as (

    select
        cast(null as bigint) as file_number,
        cast(null as bigint) as size_bytes,
        cast(null as {{ dbt.type_string() }}) as content_hash
    where false
    {%- for file in files %}
    union all
    select
        {{ file['file_number'] }} as file_number,
        size_bytes,
        content_hash
    from ({{ file_fingerprint(file['file_path']) }}) as fingerprint
    {%- endfor %}

),

final as (

    select
        audited.file_number,
        audited.file_path,
        audited.file_format,
        audited.records,
        cast(sum(audited.records) over (
            order by audited.file_number rows between unbounded preceding and current row
        ) - audited.records + 1 as bigint) as first_line_id,
        fingerprints.size_bytes,
        fingerprints.content_hash,
        md5({{ text_literal(staged_lines_settings() if execute else '') }}) as settings_fingerprint

    from audited
    left join fingerprints on audited.file_number = fingerprints.file_number

)

select * from final
