"""One source of defaults: the vars of dbt_project.yml. These fail when Python code carries
a default of its own that disagrees with a var, or when the models' yml passes a var under
a setting name the Python side does not map to that var."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import yaml
from dbt_project_runner import ROOT

import customer_segmentation
from customer_segmentation.clustering.features import VAR_NAMES, settings_from_config, var_defaults
from customer_segmentation.project import project_vars

PREFIXES = ("", "kmeans_", "clustering_", "clv_")


def package_functions():
    for module_info in pkgutil.walk_packages(
        customer_segmentation.__path__, customer_segmentation.__name__ + "."
    ):
        module = importlib.import_module(module_info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", function


def disagreements(functions, variables: dict) -> list[str]:
    found = []
    for name, function in functions:
        for parameter in inspect.signature(function).parameters.values():
            if parameter.default is inspect.Parameter.empty:
                continue
            for prefix in PREFIXES:
                var = prefix + parameter.name
                if var in variables and parameter.default != variables[var]:
                    found.append(
                        f"{name}({parameter.name}={parameter.default!r}) but var {var} is "
                        f"{variables[var]!r}"
                    )
    return found


def test_no_function_default_disagrees_with_its_var():
    assert disagreements(package_functions(), project_vars()) == []


def test_the_check_catches_a_competing_default():
    def fit(points, fit_sample_size=100_000, fitter="scipy"):
        return points

    found = disagreements([("fit", fit)], {"kmeans_fit_sample_size": 10_000, "clv_fitter": "scipy"})
    assert found == ["fit(fit_sample_size=100000) but var kmeans_fit_sample_size is 10000"]


def test_clustering_settings_left_out_take_the_vars():
    variables = project_vars()
    settings = settings_from_config({})
    assert settings["fit_sample_size"] == variables["kmeans_fit_sample_size"]
    assert settings["silhouette_sample_size"] == variables["kmeans_silhouette_sample_size"]
    assert settings == settings_from_config(
        {key: str(value) for key, value in var_defaults().items() if value is not None}
    )
    assert settings_from_config({"fit_sample_size": "60"})["fit_sample_size"] == 60


def test_the_models_pass_each_var_under_the_setting_name_python_maps_it_to():
    """Every `kmeans` config block of the models' yml: key -> var('name') as VAR_NAMES says."""
    blocks = []
    for path in sorted((ROOT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            block = (model.get("config") or {}).get("kmeans")
            if block:
                blocks.append(
                    {
                        key: re.search(r"var\('(\w+)'\)", template).group(1)
                        for key, template in block.items()
                    }
                )
    assert blocks, "no model passes a kmeans config"
    for block in blocks:
        assert {key: VAR_NAMES[key] for key in block} == block
    assert set().union(*blocks) == set(VAR_NAMES)
