{#- Whether to trust the lifetime-value predictions: fitted on the lines before
    the calibration date, predicted against actual purchase occasions in the
    holdout period, per calibration frequency group and in total, for the
    organic customers and, apart, those a campaign treated in the holdout. -#}
{{ select_contract_columns(ref('int_clv_backtest')) }}
