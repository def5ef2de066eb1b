"""dbt-spark, plus Python models run in the local pyspark session.

dbt-spark 1.11 submits Python models only to Databricks (its python_submission_helpers
are job_cluster and all_purpose_cluster, both REST clients of a Databricks workspace).
With `method: session` dbt-spark already runs Spark inside the dbt process, so a Python
model can simply run there too: this plugin adds that one submission method and
changes nothing else. Its adapter type is `spark_session`; dbt dispatches
`spark_session__` macros first, then every `spark__` macro of dbt-spark and of the
project, so the SQL side is dbt-spark's unchanged.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.spark_session.impl import SparkSessionAdapter, SparkSessionCredentials
from dbt.include import spark_session

Plugin = AdapterPlugin(
    adapter=SparkSessionAdapter,  # type: ignore[arg-type]
    credentials=SparkSessionCredentials,
    include_path=spark_session.PACKAGE_PATH,
    dependencies=["spark"],
)
