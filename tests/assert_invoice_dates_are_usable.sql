{#- The configured date formats fit the export. Fails the build, before anything is
    built on the staged lines, when more than var('max_unusable_date_share') of the
    lines have no usable date (none of var('raw_invoice_date_formats') matches, or the
    date is before var('earliest_valid_date')), or when any line parses only with day
    and month swapped (a day-first export read month-first, whose days up to 12 would
    otherwise be read wrong without a sound). The message gives the share, sample
    values, the var to change and the formats of var('common_invoice_date_formats')
    that would read the unusable lines. -#}
{%- set formats = var('raw_invoice_date_formats') -%}
{%- set earliest = "cast('" ~ var('earliest_valid_date') ~ "' as date)" -%}
{%- set swapped = [] -%}
{%- for format in formats if '%m' in format and '%d' in format -%}{%- do swapped.append(format | replace('%m', '%_M_') | replace('%d', '%m') | replace('%_M_', '%d')) -%}{%- endfor -%}
{#- Lines the format suggestion is tried on: plenty to rank a few formats. -#}
{%- set sample_size = 10000 -%}
{%- set swapped_lines = "(select count(*) from unusable where not is_parsed and "
    ~ parse_timestamp('trim(invoice_date_raw)', swapped) ~ " >= " ~ earliest ~ ")" if swapped else "0" -%}
{%- set check -%}
with

lines as (

    select
        invoice_date_raw,
        invoiced_at is not null as is_parsed,
        coalesce(invoice_date >= {{ earliest }}, false) as is_usable
    from {{ ref('stg_shop__transactions') }}

),

unusable as (

    select invoice_date_raw, is_parsed
    from lines
    where not is_usable

),

sample as (

    select invoice_date_raw
    from unusable
    where invoice_date_raw is not null
    limit {{ sample_size }}

),

summary as (

    select
        (select count(*) from lines) as total_lines,
        (select count(*) from unusable) as unusable_lines,
        (select count(*) from unusable where is_parsed) as too_early_lines,
        {{ swapped_lines }} as swapped_lines,
        (select string_agg(distinct invoice_date_raw, ''' | ''') from (select * from sample limit 5)) as examples,
        (select count(*) from sample) as sampled_lines

)

select * from summary
where
    unusable_lines > {{ var('max_unusable_date_share') }} * total_lines
    or swapped_lines > 0
{%- endset -%}

{%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
    {%- set failed = run_query(check) -%}
    {%- if failed.rows | length > 0 -%}
        {%- set row = failed.rows[0] -%}
        {#- Which common formats read the sampled lines, best first. -#}
        {%- set candidates = [] -%}
        {%- for candidate in var('common_invoice_date_formats') -%}
            {%- set parsed = run_query(
                "select count(*) from (select invoice_date_raw from " ~ ref('stg_shop__transactions')
                ~ " where not coalesce(invoice_date >= " ~ earliest ~ ", false) and invoice_date_raw is not null limit "
                ~ sample_size ~ ") where cast(" ~ parse_timestamp('trim(invoice_date_raw)', [candidate])
                ~ " as date) >= " ~ earliest
            ).rows[0][0] -%}
            {%- if parsed > 0 -%}{%- do candidates.append([parsed, candidate]) -%}{%- endif -%}
        {%- endfor -%}
        {%- set best = candidates | sort(attribute='0', reverse=true) -%}
        {%- set share = 100.0 * row['unusable_lines'] / row['total_lines'] -%}
        {%- set message = [
            "Invoice dates: " ~ row['unusable_lines'] ~ " of " ~ row['total_lines'] ~ " lines ("
            ~ (share | round(1)) ~ "%) have no usable date with var raw_invoice_date_formats "
            ~ formats ~ " (at most " ~ (100 * var('max_unusable_date_share')) ~ "% may, var max_unusable_date_share)"
            ~ (", e.g. '" ~ row['examples'] ~ "'" if row['examples'] else "") ~ "."
        ] -%}
        {%- if row['swapped_lines'] > 0 -%}
            {%- do message.append(row['swapped_lines'] ~ " of them parse only with day and month swapped: the export is "
                ~ "not in the configured day/month order, and its lines with a day up to 12 would be read with day "
                ~ "and month exchanged.") -%}
        {%- endif -%}
        {%- if row['too_early_lines'] > 0 -%}
            {%- do message.append(row['too_early_lines'] ~ " of them parse but are dated before var earliest_valid_date ("
                ~ var('earliest_valid_date') ~ "): a 2-digit year read with %Y, or an export older than that date "
                ~ "(then lower earliest_valid_date).") -%}
        {%- endif -%}
        {%- if best -%}
            {%- set suggestion = best[0][1] -%}
            {%- do message.append("Set raw_invoice_date_formats: ['" ~ suggestion ~ "'] (it reads " ~ best[0][0] ~ " of "
                ~ row['sampled_lines'] ~ " sampled unusable lines)"
                ~ ("; other formats that read some: " ~ (best[1:4] | map(attribute='1') | join(', ')) if best | length > 1 else "")
                ~ ".") -%}
        {%- else -%}
            {%- do message.append("None of var common_invoice_date_formats reads them: write the strptime format "
                ~ "of these values into raw_invoice_date_formats.") -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(message | join(' ')) }}
    {%- endif -%}
{%- endif -%}

{{ check }}
