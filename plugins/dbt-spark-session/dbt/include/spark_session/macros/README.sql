{#- No macros of its own: every spark__ macro of dbt-spark applies (dbt dispatches
    spark_session__, then spark__, then default__). -#}
