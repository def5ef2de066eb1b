{#- Incremental staging (README "Incremental runs"). stg_shop__transactions adds only the
    lines beyond the last one it stored; stg_shop__loaded_files records, in the same
    transaction (its post-hooks), which files it read and what their bytes were. The
    next incremental run compares the export with that record and stages only new lines
    when the export has only grown at its end (a longer last file, or new files after it
    in the glob's order); anything else (a file changed, removed or inserted before the
    end, other settings) stages every line again, as --full-refresh would: old and new
    lines are never mixed. -#}

{#- What the staged values of a line depend on besides the line itself: the source (its
    path, reader options), the settings staging reads, and staging's own code with that
    of every macro it calls, directly or through others (a changed date parser must not
    leave old lines parsed the old way). Recorded by stg_shop__loaded_files; a run whose
    text differs cannot add lines to the old ones. -#}
{% macro staged_lines_settings() -%}
    {%- set staging = [] -%}
    {%- set macro_ids = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'stg_shop__transactions' -%}
        {%- do staging.append(node.raw_code) -%}
        {%- do macro_ids.extend(node.depends_on.macros) -%}
    {%- endfor -%}
    {%- set macro_code = {} -%}
    {#- Breadth first over the macros' own dependencies (dispatch included); macro calls
        nest only a few levels deep, far fewer than these passes. -#}
    {%- for pass in range(10) -%}
        {%- for macro_id in macro_ids if macro_id not in macro_code -%}
            {%- set package, name = macro_id.split('.')[1:3] -%}
            {%- set namespace = context.get(package) or context['dbt'] -%}
            {%- set generator = namespace.get(name) if namespace is mapping else none -%}
            {%- if generator is none -%}
                {%- do macro_code.update({macro_id: ''}) -%}
            {%- else -%}
                {%- do macro_code.update({macro_id: generator.macro.macro_sql}) -%}
                {%- do macro_ids.extend(generator.macro.depends_on.macros) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set settings = {
        'source': source('shop', 'transactions') | string,
        'raw_columns': var('raw_columns'),
        'raw_null_tokens': var('raw_null_tokens'),
        'raw_invoice_date_formats': var('raw_invoice_date_formats'),
        'shop_timezone': var('shop_timezone'),
        'earliest_valid_date': var('earliest_valid_date'),
        'raw_price_is_line_total': var('raw_price_is_line_total'),
        'code': staging | join,
        'macros': macro_code,
    } -%}
    {{ return(tojson(settings, sort_keys=true)) }}
{%- endmacro %}

{#- True when the lines come from a warehouse table (var raw_transactions_table): a table
    has no files to compare, so staging rebuilds it whole on every run. -#}
{% macro raw_source_is_table() -%}
    {{ return((var('raw_transactions_table') or env_var('RAW_TRANSACTIONS_TABLE', '')) != '') }}
{%- endmacro %}

{#- Where the lines of an incremental run of stg_shop__transactions come from, checked
    against stg_shop__loaded_files (the record of the last build): a dict with
    `loaded_lines` (the lines stored: new lines have positions after it), `relation`
    (what to read: the last loaded file and every new one), `lines_before` (the
    positions of the files before those) and `rebuild_reason`: none, or why the stored
    lines are not a beginning of the export as it is now (then every line is staged
    again, and the other keys are absent). -#}
{% macro staged_lines_growth(staged, audit) -%}
    {%- set record = adapter.get_relation(database=staged.database, schema=staged.schema, identifier='stg_shop__loaded_files') -%}
    {%- if record is none -%}
        {%- do log("stg_shop__transactions: every line is staged again, because there is no record of the files the staged lines came from (stg_shop__loaded_files)", info=true) -%}
        {{ return({'rebuild_reason': 'no record of the staged files'}) }}
    {%- endif -%}
    {%- set loaded = run_query('select file_number, file_path, file_format, records, size_bytes, content_hash, settings_fingerprint from ' ~ record ~ ' order by file_number').rows | list -%}
    {%- set current = run_query('select file_number, file_path, records from ' ~ audit ~ ' order by file_number').rows | list -%}
    {%- set stored = run_query('select count(*) from ' ~ staged).rows[0][0] -%}
    {%- set settings = run_query('select md5(' ~ text_literal(staged_lines_settings()) ~ ')').rows[0][0] -%}
    {%- set recorded = loaded | sum(attribute='records') -%}
    {%- set problems = [] -%}
    {%- if loaded | length == 0 or loaded[0]['settings_fingerprint'] != settings -%}
        {%- do problems.append("the source, its settings (raw_columns, raw_null_tokens, raw_invoice_date_formats, shop_timezone, earliest_valid_date, raw_price_is_line_total) or staging's code changed since the lines were staged") -%}
    {%- elif stored != recorded -%}
        {%- do problems.append(stored ~ " lines are staged but the record of the last build says " ~ recorded ~ " (stg_shop__loaded_files was not rebuilt with them)") -%}
    {%- elif current | length < loaded | length -%}
        {%- do problems.append("the export has " ~ current | length ~ " file(s), " ~ loaded | length ~ " were staged") -%}
    {%- else -%}
        {%- set last = loaded | length -%}
        {%- set checks = [] -%}
        {%- for file in loaded -%}
            {%- if current[loop.index0]['file_path'] != file['file_path'] -%}
                {%- do problems.append("file " ~ loop.index ~ " of the export is " ~ current[loop.index0]['file_path'] ~ ", it was " ~ file['file_path'] ~ " (new files must sort after the staged ones)") -%}
            {%- else -%}
                {%- do checks.append('select ' ~ file['file_number'] ~ ' as file_number, * from (' ~ file_fingerprint(file['file_path'], file['size_bytes']) ~ ') as fingerprint') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not problems -%}
            {%- set found = run_query(checks | join('\nunion all\n') ~ '\norder by file_number').rows | list -%}
            {%- for file in loaded -%}
                {%- set now = found[loop.index0] -%}
                {%- set grows_in_place = file['file_format'] == 'csv' and not (file['file_path'] | lower).endswith(('.gz', '.bz2', '.xz', '.lzma')) -%}
                {%- if now['content_hash'] != file['content_hash'] or now['size_bytes'] < file['size_bytes'] -%}
                    {%- do problems.append(file['file_path'] ~ " changed since its lines were staged (its first " ~ file['size_bytes'] ~ " bytes are not the ones staged)") -%}
                {%- elif now['size_bytes'] > file['size_bytes'] and loop.index < last -%}
                    {%- do problems.append(file['file_path'] ~ " grew, but files after it were staged already (only the last file may grow)") -%}
                {%- elif now['size_bytes'] > file['size_bytes'] and not grows_in_place -%}
                    {%- do problems.append(file['file_path'] ~ " was rewritten with more lines; a " ~ ("Parquet" if file['file_format'] == 'parquet' else "compressed") ~ " file cannot grow in place: add new lines as a new file that sorts after it") -%}
                {%- elif now['size_bytes'] > file['size_bytes'] and not now['ends_with_line_break'] -%}
                    {%- do problems.append(file['file_path'] ~ " grew, but its staged part did not end with a line break (the last staged line may have changed)") -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if problems -%}
        {%- set reason = problems[:2] | join('; ') ~ ('; and ' ~ (problems | length - 2) ~ ' more' if problems | length > 2 else '') -%}
        {%- do log("stg_shop__transactions: every line is staged again, because " ~ reason, info=true) -%}
        {{ return({'rebuild_reason': reason}) }}
    {%- endif -%}
    {%- set last = loaded | length -%}
    {#- The last staged file is read again only when it grew (its new lines continue its
        numbering); with nothing new at all it is read anyway and yields no new line. -#}
    {%- set last_grew = current[last - 1]['records'] > loaded[last - 1]['records'] -%}
    {%- set first_read = last - 1 if last_grew or current | length == last else last -%}
    {%- set lines_before = loaded[:first_read] | sum(attribute='records') -%}
    {%- set subset = source_files_subset(source('shop', 'transactions'), current[first_read:]) -%}
    {{ return({
        'loaded_lines': stored,
        'relation': subset if subset is not none else source('shop', 'transactions'),
        'lines_before': lines_before if subset is not none else 0,
        'rebuild_reason': none,
    }) }}
{%- endmacro %}

{#- The rows of stg_shop__loaded_files, from `audit` (stg_shop__source_files): each file
    with its position, records, first line id and fingerprint, and the settings'
    fingerprint. -#}
{% macro loaded_files_query(audit) -%}
{%- set files = [] -%}
{%- if execute and not raw_source_is_table() and load_relation(audit) is not none -%}
    {%- set files = run_query('select file_number, file_path from ' ~ audit ~ ' order by file_number').rows | list -%}
{%- endif %}
with

audited as (

    select
        file_number,
        file_path,
        file_format,
        records
    from {{ audit }}

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
{%- endmacro %}

{#- The post-hooks of stg_shop__transactions: stg_shop__loaded_files written again from
    this run's audit, after the lines and in their transaction; `step` is `drop` or
    `create`, one hook each (Spark runs one statement at a time). dbt's cache of relations
    is told, so that the model's own build later in the run finds the table. -#}
{% macro record_staged_files(staged, audit, step) -%}
    {%- if execute and step == 'drop' and not raw_source_is_table() and load_relation(audit) is none -%}
        {{ exceptions.raise_compiler_error("stg_shop__transactions records the files it staged from " ~ audit.identifier ~ " (the pre-flight audit), which this warehouse does not have yet: build them together, `dbt build --select +stg_shop__transactions`") }}
    {%- endif -%}
    {%- set record = api.Relation.create(database=staged.database, schema=staged.schema, identifier='stg_shop__loaded_files', type='table') -%}
    {%- if step == 'drop' -%}
        {%- do adapter.cache_dropped(record) if execute -%}
        drop table if exists {{ record }}
    {%- else -%}
        {%- do adapter.cache_added(record) if execute -%}
        create table {{ record }} as {{ loaded_files_query(audit) }}
    {%- endif -%}
{%- endmacro %}
