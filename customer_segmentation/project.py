"""The dbt project's vars (dbt_project.yml), for code that runs outside dbt: tests, command
lines and the benchmark. Inside dbt the models get the vars through their yml config."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

PROJECT_FILE = Path(__file__).resolve().parents[1] / "dbt_project.yml"


@cache
def project_vars(path: Path = PROJECT_FILE) -> dict:
    """Every var of dbt_project.yml with its value there."""
    return dict(yaml.safe_load(Path(path).read_text())["vars"])
