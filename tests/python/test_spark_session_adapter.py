"""The `session` submission method of plugins/dbt-spark-session (issue #22), run in the
Spark environment without starting Spark: the session is stubbed, the model code is not."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from test_spark_engine import SPARK_PYTHON

pytestmark = pytest.mark.spark

# dbt-spark's table materialization (dbt/include/spark/macros/materializations/table.sql)
# ends every Python model's code with this probe for the pandas API on Spark, then uses it
# only if the import succeeded.
MATERIALIZATION_PROBE = """
try:
    import pyspark.pandas
    pyspark_pandas_api_available = True
except ImportError:
    pyspark_pandas_api_available = False
if pyspark_pandas_api_available:
    pyspark.pandas.frame.DataFrame
"""

# dbt runs two Python models at once (threads: 2); a thread switch every microsecond makes
# the imports of the two overlap every few rounds.
CONCURRENT_MODELS = """
import sys, threading
from pathlib import Path
import pandas, pyspark.sql
import dbt.include.spark
from pyspark.sql import SparkSession
from dbt.adapters.spark_session.impl import SessionPythonJobHelper, SparkSessionCredentials

materialization = Path(dbt.include.spark.__file__).parent / "macros/materializations/table.sql"
assert "import pyspark.pandas" in materialization.read_text(), "dbt-spark's probe changed"
SparkSession.builder = type("Builder", (), {"getOrCreate": staticmethod(lambda: None)})
credentials = SparkSessionCredentials(
    host="localhost", method="session", schema="main", database=None
)
helper = SessionPythonJobHelper({"original_file_path": "models/probe.py"}, credentials)
sys.setswitchinterval(1e-6)
failures = []

def run_model():
    try:
        helper.submit(PROBE)
    except Exception as error:
        failures.append(repr(error))

for _ in range(ROUNDS):
    threads = [threading.Thread(target=run_model) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(failures)
"""


def test_python_models_submitted_at_once_do_not_break_each_others_write():
    """CI failed with "module 'pyspark' has no attribute 'pandas'" in a Python model: the
    pandas API on Spark does not import with pandas 3, and of two models probing for it at
    once one could see the other's half-done import succeed."""
    script = CONCURRENT_MODELS.replace("PROBE", repr(MATERIALIZATION_PROBE)).replace("ROUNDS", "20")
    result = subprocess.run(
        [str(SPARK_PYTHON), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stdout
