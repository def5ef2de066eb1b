{#- Spark implementations behind macros/cross_db/parsing.sql.
    Spark parses with Java datetime patterns, not strptime: each format is translated
    (spark_datetime_pattern) and tried in order with try_to_timestamp, which gives null
    where the pattern does not match the whole text, as try_strptime does. The session
    time zone is UTC (profiles.yml), so a local time is kept as written and an instant
    (a format with %z) is a UTC time, converted to var('shop_timezone'). -#}
{% macro spark__parse_timestamp(text_expression, formats) -%}
    {%- set parsed = [] -%}
    {%- for format in formats -%}
        {%- set attempt = "try_to_timestamp(" ~ text_expression ~ ', "' ~ spark_datetime_pattern(format) ~ '")' -%}
        {%- if '%z' in format or '%Z' in format -%}
            {%- do parsed.append(local_time(attempt)) -%}
        {%- else -%}
            {%- do parsed.append(attempt) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- first_non_null(parsed) -}}
{%- endmacro %}

{#- The Java (Spark) datetime pattern of a strptime format, for a double-quoted Spark
    string (Java quotes literal text with single quotes). Numbers take single letters,
    which Spark reads with one digit or more, as strptime reads %m, %d, %H and %M with
    or without a leading zero; a number written right after another (%Y%m%d) takes its
    fixed width instead, the only way to tell them apart. %Y as 'y' reads a two-digit
    year as the year 10, which earliest_valid_date then rejects, as on DuckDB. %y is
    Java's 'yy' (2000 to 2099; strptime puts 69 to 99 in the 1900s). A directive with no
    Java equivalent fails the build with its name. -#}
{% macro spark_datetime_pattern(format) -%}
    {%- set loose = {
        'Y': 'y', 'y': 'yy', 'm': 'M', 'd': 'd', 'H': 'H', 'I': 'h', 'M': 'm', 'S': 's',
        'f': 'SSSSSS', 'p': 'a', 'b': 'MMM', 'B': 'MMMM', 'a': 'EEE', 'A': 'EEEE',
        'j': 'D', 'z': '[XXX][XX][X]', 'Z': 'z'
    } -%}
    {%- set fixed = {'Y': 'yyyy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'I': 'hh', 'M': 'mm', 'S': 'ss', 'j': 'DDD'} -%}
    {%- if '"' in format -%}
        {{ exceptions.raise_compiler_error("The date format '" ~ format ~ "' (var raw_invoice_date_formats) holds a double quote, which the Spark target cannot pass") }}
    {%- endif -%}
    {#- Tokens: ('directive', letter) or ('text', character). -#}
    {%- set tokens = [] -%}
    {%- set state = {'directive': false} -%}
    {%- for character in format -%}
        {%- if state.directive -%}
            {%- if character == '%' -%}
                {%- do tokens.append(('text', '%')) -%}
            {%- elif character in loose -%}
                {%- do tokens.append(('directive', character)) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error("The strptime directive %" ~ character ~ " (in format '" ~ format
                    ~ "' of var raw_invoice_date_formats) has no Spark equivalent: use %Y %y %m %d %H %I %M %S %f %p %b %B %a %A %j %z") }}
            {%- endif -%}
            {%- do state.update({'directive': false}) -%}
        {%- elif character == '%' -%}
            {%- do state.update({'directive': true}) -%}
        {%- else -%}
            {%- do tokens.append(('text', character)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set pattern = [] -%}
    {%- for kind, value in tokens -%}
        {%- if kind == 'directive' -%}
            {%- set previous = tokens[loop.index0 - 1] if loop.index0 > 0 else ('text', '') -%}
            {%- set following = tokens[loop.index0 + 1] if loop.index0 + 1 < tokens | length else ('text', '') -%}
            {%- set adjacent = previous[0] == 'directive' or following[0] == 'directive' -%}
            {%- do pattern.append(fixed[value] if adjacent and value in fixed else loose[value]) -%}
        {%- elif value.isalpha() -%}
            {%- do pattern.append("'" ~ value ~ "'") -%}
        {%- elif value == "'" -%}
            {%- do pattern.append("''") -%}
        {%- elif value in '[]{}#' -%}
            {%- do pattern.append("'" ~ value ~ "'") -%}
        {%- else -%}
            {%- do pattern.append(value) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(pattern | join('')) }}
{%- endmacro %}

{% macro spark__local_time(instant_expression) -%}
    from_utc_timestamp({{ instant_expression }}, '{{ var("shop_timezone") }}')
{%- endmacro %}

{#- Spark has isnan but no isfinite; isnan(null) is false, so null stays null through
    the comparison with infinity. -#}
{% macro spark__is_finite(double_expression) -%}
    (not isnan({{ double_expression }}) and abs({{ double_expression }}) != double('inf'))
{%- endmacro %}
