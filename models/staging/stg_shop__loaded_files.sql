{#- The record of what stg_shop__transactions staged: one row per file of the export as
    it was read by the last build, with the fingerprint of its bytes and of the settings
    the lines were staged with; the next incremental run compares the export with it
    (macro staged_lines_growth). The lines' post-hook writes it in the same transaction as
    the lines (so a run that selects the lines without this model keeps it true, and a
    failed staging leaves the old record); this model writes it again, the same rows, so
    that dbt documents, tests and publishes it. -#}
-- depends_on: {{ ref('stg_shop__transactions') }}
{#- Built alone it would record files the lines were not staged from. -#}
{%- if execute and selected_resources -%}
    {%- set staging = graph.nodes.values() | selectattr('name', 'equalto', 'stg_shop__transactions') | map(attribute='unique_id') | list -%}
    {%- if staging and staging[0] not in selected_resources -%}
        {{ exceptions.raise_compiler_error("stg_shop__loaded_files records the files stg_shop__transactions staged: build it with them (`dbt build --select stg_shop__transactions+`), not alone") }}
    {%- endif -%}
{%- endif %}
{{ loaded_files_query(ref('stg_shop__source_files')) }}
