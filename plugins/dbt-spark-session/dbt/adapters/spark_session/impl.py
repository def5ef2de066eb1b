"""The `session` submission method for dbt Python models on dbt-spark's session connection."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.base.impl import AdapterTrackingRelationInfo
from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.spark import SparkAdapter, SparkConnectionManager, SparkCredentials
from dbt.adapters.spark.connections import SparkConnectionMethod
from dbt_common.exceptions import DbtRuntimeError


@dataclass
class SparkSessionCredentials(SparkCredentials):
    # Directories put on sys.path before a Python model runs (dbt-duckdb's setting of
    # the same name), so models import the project's package.
    module_paths: list[str] = field(default_factory=list)

    @property
    def type(self) -> str:
        return "spark_session"

    def __post_init__(self) -> None:
        super().__post_init__()
        # Spark starts its Python workers (UDFs, mapInPandas) with $PYSPARK_PYTHON, else
        # the first python3 on PATH, which need not have the models' packages: in local
        # mode they are this interpreter's. Set before the session (and its context) starts.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if self.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(
                "The spark_session adapter runs Python models in the local pyspark session: "
                f"set method: session (got {self.method}), or use type: spark for a cluster"
            )


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = "spark_session"


# dbt-spark's materialization appends to every Python model an `import pyspark.pandas` that
# it expects either to work or to raise ImportError. With pandas 3 it raises (pyspark 4.3
# imports DateOffset from pandas.tseries.frequencies), and a failed import is retried by
# the next model: two models in dbt's threads retrying at once can see each other's
# half-done import succeed and then fail on "module 'pyspark' has no attribute 'pandas'".
# The first submission settles the import once, under a lock.
OPTIONAL_MODULES = ("pyspark.pandas",)
_optional_modules_settled = threading.Lock()


def settle_optional_imports() -> None:
    """Import OPTIONAL_MODULES once; one that cannot be imported is recorded as missing
    (None in sys.modules), so later imports raise ImportError at once, as dbt-spark expects."""
    with _optional_modules_settled:
        for name in OPTIONAL_MODULES:
            if name in sys.modules:
                continue
            try:
                import_module(name)
            except ImportError:
                sys.modules[name] = None  # type: ignore[assignment]


class SessionPythonJobHelper(PythonJobHelper):
    """Runs a compiled Python model (its code, dbt's dbtObj and dbt-spark's py_write_table)
    in this process, against the SparkSession dbt-spark's session cursor created."""

    def __init__(self, parsed_model: dict, credentials: SparkSessionCredentials) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        for path in self.credentials.module_paths:
            if path not in sys.path:
                sys.path.insert(0, path)
        settle_optional_imports()
        # The materialization has run SQL on this connection already (dropping the old
        # relation), so the session exists with the profile's server_side_parameters;
        # getOrCreate returns it rather than starting another.
        spark = SparkSession.builder.getOrCreate()
        namespace: dict[str, Any] = {"spark": spark, "__name__": "__dbt_python_model__"}
        code = compile(compiled_code, self.parsed_model["original_file_path"], "exec")
        exec(code, namespace)  # noqa: S102 - the model's own compiled code, as on Databricks


class SparkSessionAdapter(SparkAdapter):
    ConnectionManager = SparkSessionConnectionManager  # type: ignore[assignment]

    @classmethod
    def get_adapter_run_info(cls, config: Any) -> AdapterTrackingRelationInfo:
        # dbt-adapters derives the module from the class name ("sparksession"), which
        # would not import: name it.
        from dbt.adapters.spark_session.__version__ import version

        return AdapterTrackingRelationInfo(
            adapter_name="spark_session",
            base_adapter_version=import_module("dbt.adapters.__about__").version,
            adapter_version=version,
            model_adapter_details=cls._get_adapter_specific_run_info(config),
        )

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, "session": SessionPythonJobHelper}

    def generate_python_submission_response(self, submission_result: Any) -> AdapterResponse:
        return AdapterResponse(_message="OK")
