{#- Checks every var before anything is built (on-run-start) and fails with one
    message naming each bad var, its value and what is allowed. A var that is
    wrong never reaches a model: `control_group_share: 1.5` would put every
    customer in the control group, `rfm_bins: 3` has no segment rules. -#}
{% macro validate_settings() -%}
    {%- set problems = [] -%}
    {%- set check = namespace() -%}

    {#- ---- the export ---- -#}
    {%- set columns = var('raw_columns') -%}
    {%- set canonical = ['invoice_no', 'stock_code', 'description', 'quantity', 'invoice_date', 'unit_price', 'customer_id', 'country'] -%}
    {%- if columns is not mapping -%}
        {%- do problems.append(_setting_problem('raw_columns', columns, "a mapping of canonical column -> the export's column")) -%}
    {%- else -%}
        {%- for key in columns if key not in canonical -%}
            {%- do problems.append('raw_columns.' ~ key ~ ': not a canonical column; the keys are ' ~ canonical | join(', ')) -%}
        {%- endfor -%}
        {%- for key in canonical -%}
            {%- set value = columns.get(key) -%}
            {%- if value is none and key not in optional_raw_columns() -%}
                {%- do problems.append(_setting_problem('raw_columns.' ~ key, value, 'the name of a column of the export (required; only ' ~ optional_raw_columns() | join(', ') ~ ' may be null)')) -%}
            {%- elif value is not none and (value is not string or value | trim == '') -%}
                {%- do problems.append(_setting_problem('raw_columns.' ~ key, value, 'a column name (text) or null')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set delimiter = var('raw_csv_delimiter') -%}
    {%- if not (delimiter is string and (delimiter | length == 1 or delimiter == 'whitespace')) -%}
        {%- do problems.append(_setting_problem('raw_csv_delimiter', delimiter, "one character (',', ';', '\\t', '|') or 'whitespace'")) -%}
    {%- endif -%}
    {%- if var('raw_csv_encoding') is not string -%}
        {%- do problems.append(_setting_problem('raw_csv_encoding', var('raw_csv_encoding'), 'an encoding name such as utf-8, latin-1, cp1252, utf-16')) -%}
    {%- endif -%}
    {%- do _check_text_list(problems, 'raw_null_tokens', allow_empty=true) -%}
    {%- do _check_text_list(problems, 'raw_invoice_date_formats') -%}
    {%- do _check_text_list(problems, 'common_invoice_date_formats') -%}
    {%- for format in (var('raw_invoice_date_formats') if var('raw_invoice_date_formats') is iterable else []) if format is string and '%' not in format -%}
        {%- do problems.append(_setting_problem('raw_invoice_date_formats', format, 'strptime formats such as %m/%d/%Y %H:%M')) -%}
    {%- endfor -%}
    {%- if var('shop_timezone') is not string or var('shop_timezone') | trim == '' -%}
        {%- do problems.append(_setting_problem('shop_timezone', var('shop_timezone'), 'a time zone name such as UTC or Europe/London')) -%}
    {%- endif -%}
    {%- do _check_boolean(problems, 'raw_price_is_line_total') -%}
    {%- set prefix = var('cancellation_invoice_prefix') -%}
    {%- if prefix is not string or prefix == '' -%}
        {%- do problems.append(_setting_problem('cancellation_invoice_prefix', prefix, 'the non-empty text cancellation invoice numbers start with (an empty prefix would make every invoice a cancellation)')) -%}
    {%- endif -%}

    {%- for name in ['raw_freshness_warn_after_days', 'raw_freshness_error_after_days'] if var(name) is not none -%}
        {%- do _check_integer(problems, name, 1, none, ' (or null: the export is a historical file, not a live feed, and has no freshness check)') -%}
    {%- endfor -%}
    {%- set warn_after = var('raw_freshness_warn_after_days') -%}
    {%- set error_after = var('raw_freshness_error_after_days') -%}
    {%- if warn_after is integer and error_after is integer and error_after < warn_after -%}
        {%- do problems.append(_setting_problem('raw_freshness_error_after_days', error_after, 'at least raw_freshness_warn_after_days (' ~ warn_after ~ '): the source warns before it fails')) -%}
    {%- endif -%}

    {#- ---- cleaning ---- -#}
    {%- for name in ['as_of_date', 'earliest_valid_date'] -%}
        {%- set value = var(name) -%}
        {%- if not (value is none and name == 'as_of_date') and not (value is string and modules.re.match('^(19|20|21)\\d\\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', value)) -%}
            {%- do problems.append(_setting_problem(name, value, 'a date written YYYY-MM-DD' ~ (' or null (the day after the last dated line)' if name == 'as_of_date' else ''))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do _check_number(problems, 'max_unusable_date_share', 0, 1) -%}
    {%- do _check_integer(problems, 'stray_date_gap_days', 1) -%}
    {%- do _check_number(problems, 'stray_date_max_share', 0, 0.5) -%}
    {%- do _check_choice(problems, 'outlier_method', ['iqr', 'cap']) -%}
    {%- do _check_number(problems, 'outlier_iqr_multiplier', 0, none, strict_minimum=true) -%}
    {%- do _check_number(problems, 'outlier_quantity_cap', 0, none, strict_minimum=true) -%}
    {%- do _check_number(problems, 'outlier_line_value_cap', 0, none, strict_minimum=true) -%}
    {%- set precedence = var('cleaning_rule_precedence') -%}
    {%- if precedence is string or precedence is not iterable or (precedence | list | last) != 'valid_purchase'
        or (precedence | unique | list | length) != (precedence | list | length) -%}
        {%- do problems.append(_setting_problem('cleaning_rule_precedence', precedence, 'a list of the reason codes in seeds/cleaning_rules.csv, each once, ending with valid_purchase')) -%}
    {%- endif -%}

    {#- ---- RFM ---- -#}
    {%- set supported_bins = rfm_supported_bins() -%}
    {%- if var('rfm_bins') not in supported_bins or var('rfm_bins') is sameas true -%}
        {%- do problems.append(_setting_problem('rfm_bins', var('rfm_bins'), supported_bins | join(' or ') ~ ': seeds/rfm_segment_rules.csv has segment rules for those (add rules for every R x FM cell and the count to macro rfm_supported_bins to allow another)')) -%}
    {%- endif -%}
    {%- do _check_number(problems, 'high_returner_threshold', 0, 1, strict_minimum=true) -%}

    {#- ---- segment history ---- -#}
    {%- do _check_choice(problems, 'segment_history_grain', ['week', 'month', 'quarter']) -%}
    {#- The segment names themselves are checked against seed rfm_segments by a data test
        (assert_segment_drop_vars_name_segments): seeds are not loaded yet here. -#}
    {%- do _check_text_list(problems, 'segment_drop_from_segments') -%}
    {%- do _check_text_list(problems, 'segment_drop_to_segments') -%}

    {#- ---- clustering ---- -#}
    {#- Clusters get one business name each: seeds/cluster_names.csv holds this many
        archetypes (a data test keeps kmeans_k_max within them). -#}
    {%- set named_clusters = 8 -%}
    {%- do _check_integer(problems, 'kmeans_k_min', 2, named_clusters) -%}
    {%- do _check_integer(problems, 'kmeans_k_max', 2, named_clusters, ' (seeds/cluster_names.csv names ' ~ named_clusters ~ ' archetypes)') -%}
    {%- if var('kmeans_k_min') is number and var('kmeans_k_max') is number and var('kmeans_k_min') > var('kmeans_k_max') -%}
        {%- do problems.append(_setting_problem('kmeans_k_max', var('kmeans_k_max'), 'at least kmeans_k_min (' ~ var('kmeans_k_min') ~ ')')) -%}
    {%- endif -%}
    {%- if var('kmeans_k') is not none -%}
        {%- do _check_integer(problems, 'kmeans_k', 2, named_clusters, ' (or null to choose k); seeds/cluster_names.csv names ' ~ named_clusters ~ ' archetypes') -%}
    {%- endif -%}
    {%- do _check_number(problems, 'kmeans_min_cluster_share', 0, 0.5) -%}
    {%- do _check_boolean(problems, 'kmeans_use_return_rate') -%}
    {%- do _check_choice(problems, 'kmeans_scaler', ['rank', 'standard', 'minmax']) -%}
    {%- do _check_integer(problems, 'kmeans_fit_sample_size', 100) -%}
    {%- do _check_integer(problems, 'kmeans_silhouette_sample_size', 100) -%}
    {%- do _check_integer(problems, 'kmeans_random_state', 0) -%}
    {%- do _check_integer(problems, 'kmeans_n_init', 1) -%}
    {%- do _check_integer(problems, 'kmeans_threads', 1) -%}
    {%- do _check_integer(problems, 'kmeans_stability_resamples', 2) -%}
    {%- do _check_number(problems, 'kmeans_stability_fraction', 0, 1, strict_minimum=true, strict_maximum=true) -%}
    {%- do _check_integer(problems, 'kmeans_stability_n_init', 1) -%}
    {%- do _check_number(problems, 'kmeans_min_stability_ari', 0, 1) -%}
    {%- do _check_number(problems, 'kmeans_min_cluster_jaccard', 0, 1) -%}
    {%- do _check_choice(problems, 'clustering_algorithm', ['kmeans', 'gmm', 'ward', 'hdbscan']) -%}
    {%- do _check_integer(problems, 'clustering_comparison_sample_size', 100) -%}
    {%- do _check_integer(problems, 'clustering_comparison_resamples', 2) -%}
    {%- do _check_integer(problems, 'knn_neighbors', 1) -%}
    {%- do _check_integer(problems, 'knn_cv_folds', 2) -%}
    {%- do _check_integer(problems, 'knn_threads', 1) -%}
    {%- if var('currency') is not string or var('currency') | length != 3 -%}
        {%- do problems.append(_setting_problem('currency', var('currency'), 'a three-letter ISO 4217 code such as GBP, EUR or USD')) -%}
    {%- endif -%}

    {#- ---- customer lifetime value ---- -#}
    {%- do _check_choice(problems, 'clv_fitter', ['scipy', 'pymc_marketing']) -%}
    {%- do _check_integer(problems, 'clv_prediction_days', 1) -%}
    {%- do _check_integer(problems, 'clv_horizon_months', 1) -%}
    {%- do _check_number(problems, 'clv_monthly_discount_rate', 0, 1) -%}
    {%- set calibration = var('clv_calibration_date') -%}
    {%- if not (calibration is none or (calibration is string and modules.re.match('^(19|20|21)\\d\\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', calibration))) -%}
        {%- do problems.append(_setting_problem('clv_calibration_date', calibration, 'a date written YYYY-MM-DD, after the first purchase day and before the as-of date, or null (clv_calibration_share of the period)')) -%}
    {%- endif -%}
    {%- do _check_number(problems, 'clv_calibration_share', 0, 1, strict_minimum=true, strict_maximum=true) -%}
    {%- do _check_integer(problems, 'clv_backtest_top_frequency_group', 1) -%}
    {%- do _check_number(problems, 'clv_backtest_confidence', 0, 1, strict_minimum=true, strict_maximum=true) -%}
    {%- if var('clv_seasonality') not in ['month_of_year', 'none'] -%}
        {%- do problems.append(_setting_problem('clv_seasonality', var('clv_seasonality'), 'month_of_year or none')) -%}
    {%- endif -%}
    {%- do _check_integer(problems, 'clv_seasonality_min_purchases', 12) -%}
    {%- do _check_number(problems, 'churn_risk_value_share', 0, 1, strict_minimum=true) -%}
    {%- do _check_number(problems, 'churn_risk_max_probability_alive', 0, 1, strict_minimum=true) -%}
    {#- ---- analyses and campaigns ---- -#}
    {%- if var('analysis_top_n') is not none -%}
        {%- do _check_integer(problems, 'analysis_top_n', 1, none, ' (or null for every row)') -%}
    {%- endif -%}
    {%- do _check_number(problems, 'control_group_share', 0, 1, strict_maximum=true, note=' (a share of 1 would leave nobody to contact)') -%}
    {%- if var('control_group_salt') is not string or var('control_group_salt') == '' -%}
        {%- do problems.append(_setting_problem('control_group_salt', var('control_group_salt'), 'non-empty text')) -%}
    {%- endif -%}
    {%- do _check_integer(problems, 'campaign_follow_up_days', 0) -%}
    {%- do _check_number(problems, 'campaign_confidence', 0, 1, strict_minimum=true, strict_maximum=true) -%}
    {%- do _check_number(problems, 'campaign_power', 0, 1, strict_minimum=true, strict_maximum=true) -%}
    {%- do _check_integer(problems, 'campaign_min_buyers_per_arm', 1) -%}
    {%- do _check_number(problems, 'campaign_relevant_lift', 0, none, strict_minimum=true, note=' (a relative lift, 0.1 = 10%)') -%}

    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Invalid settings (vars in dbt_project.yml or --vars); nothing was built:\n- " ~ problems | join('\n- ')
        ) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro _setting_problem(name, value, allowed) -%}
    {{ return(name ~ ": " ~ (value | tojson if value is not string else "'" ~ value ~ "'") ~ " is not allowed; expected " ~ allowed) }}
{%- endmacro %}

{% macro _check_number(problems, name, minimum, maximum, strict_minimum=false, strict_maximum=false, note='') -%}
    {%- set value = var(name) -%}
    {%- set ok = value is number and value is not sameas true and value is not sameas false
        and (minimum is none or (value > minimum if strict_minimum else value >= minimum))
        and (maximum is none or (value < maximum if strict_maximum else value <= maximum)) -%}
    {%- if not ok -%}
        {%- set low = ('' if minimum is none else ('above ' if strict_minimum else 'at least ') ~ minimum) -%}
        {%- set high = ('' if maximum is none else ('below ' if strict_maximum else 'at most ') ~ maximum) -%}
        {%- do problems.append(_setting_problem(name, value, 'a number ' ~ [low, high] | select | join(' and ') ~ note)) -%}
    {%- endif -%}
{%- endmacro %}

{% macro _check_integer(problems, name, minimum, maximum=none, note='') -%}
    {%- set value = var(name) -%}
    {%- set ok = value is integer and value is not sameas true and value is not sameas false
        and value >= minimum and (maximum is none or value <= maximum) -%}
    {%- if not ok -%}
        {%- do problems.append(_setting_problem(name, value, 'a whole number from ' ~ minimum ~ (' to ' ~ maximum if maximum is not none else ' up') ~ note)) -%}
    {%- endif -%}
{%- endmacro %}

{% macro _check_choice(problems, name, choices) -%}
    {%- if var(name) not in choices -%}
        {%- do problems.append(_setting_problem(name, var(name), choices[:-1] | join(', ') ~ ' or ' ~ choices[-1])) -%}
    {%- endif -%}
{%- endmacro %}

{% macro _check_boolean(problems, name) -%}
    {%- set value = var(name) -%}
    {%- if value is not sameas true and value is not sameas false -%}
        {%- do problems.append(_setting_problem(name, value, 'true or false')) -%}
    {%- endif -%}
{%- endmacro %}

{% macro _check_text_list(problems, name, allow_empty=false) -%}
    {%- set value = var(name) -%}
    {%- if value is string or value is mapping or value is not iterable
        or (not allow_empty and value | length == 0) or (value | reject('string') | list | length) > 0 -%}
        {%- do problems.append(_setting_problem(name, value, 'a list of text values' ~ ('' if allow_empty else ', not empty'))) -%}
    {%- endif -%}
{%- endmacro %}
