"""The engine helper the Python models read their inputs through (customer_segmentation.engine),
and the fit-sample path Spark takes: the maths on the fit sample alone must give what it
gives on every customer. The Spark side itself runs in tests/python/test_spark_engine.py."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_kmeans import SETTINGS, separated_groups
from threadpoolctl import threadpool_limits

from customer_segmentation import engine
from customer_segmentation.clustering import comparison, selection
from customer_segmentation.clustering.features import fit_sample_input, sample_indices


def relation(connection, frame: pd.DataFrame):
    connection.register("frame", frame)
    return connection.sql("select * from frame")


def test_engine_of_names_what_it_cannot_read():
    with duckdb.connect() as connection:
        assert engine.engine_of(connection.sql("select 1")) == engine.DUCKDB
    with pytest.raises(TypeError, match="DuckDB relation or a pyspark DataFrame"):
        engine.engine_of(pd.DataFrame())


def test_engine_of_a_wrapped_relation_is_the_wrapped_one():
    # The benchmark hands the models relations wrapped to time `.df()`.
    class Wrapper:
        def __init__(self, wrapped):
            self.__wrapped__ = wrapped

    with duckdb.connect() as connection:
        assert engine.engine_of(Wrapper(connection.sql("select 1"))) == engine.DUCKDB
    with pytest.raises(TypeError, match="DuckDB relation or a pyspark DataFrame"):
        engine.engine_of(Wrapper(pd.DataFrame()))


def test_to_pandas_on_duckdb_is_project_order_df():
    frame = pd.DataFrame({"customer_id": ["b", "a", "c"], "x": [2, 1, 3], "y": [0.5, 0.1, 0.9]})
    with duckdb.connect() as connection:
        rel = relation(connection, frame)
        got = engine.to_pandas(rel, "customer_id, y", "customer_id")
        expected = rel.project("customer_id, y").order("customer_id").df()
        pd.testing.assert_frame_equal(got, expected)
        assert list(got["customer_id"]) == ["a", "b", "c"]
        assert engine.row_count(rel) == 3
        assert engine.distinct_count(rel, "x") == 3


def test_rows_at_takes_the_positions_in_sort_order():
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in (3, 1, 4, 0, 2)], "v": range(5)})
    with duckdb.connect() as connection:
        got = engine.rows_at(
            relation(connection, frame), np.array([0, 2, 4]), "customer_id, v", "customer_id"
        )
    assert list(got["customer_id"]) == ["c0", "c2", "c4"]


def test_the_fit_sample_alone_gives_the_selection_of_every_customer():
    """Spark hands select_k and compare_algorithms only the fit sample's rows (and the
    customer count): same metrics, same k, same comparison as on all customers."""
    customers, _ = separated_groups([250, 150, 100])
    settings = {**SETTINGS, "fit_sample_size": 200, "stability_resamples": 2}
    rows = sample_indices(len(customers), settings["fit_sample_size"], settings["random_state"])
    sample = customers.iloc[rows].reset_index(drop=True)
    with threadpool_limits(limits=1):
        everyone = selection.select_k(customers, settings)
        sampled = selection.select_k(sample, settings, n_customers=len(customers))
        pd.testing.assert_frame_equal(everyone, sampled)
        k = int(everyone.loc[everyone["is_chosen"], "k"].iloc[0])
        pd.testing.assert_frame_equal(
            comparison.compare_algorithms(customers, {**settings, "comparison_resamples": 2}, k),
            comparison.compare_algorithms(sample, {**settings, "comparison_resamples": 2}, k),
        )


def test_fit_sample_input_on_duckdb_reads_every_customer_by_id():
    customers, _ = separated_groups([30, 20])
    shuffled = customers.sample(frac=1, random_state=3)
    with duckdb.connect() as connection:
        got, n_customers = fit_sample_input(relation(connection, shuffled), SETTINGS)
    assert n_customers == 50
    assert list(got["customer_id"]) == sorted(customers["customer_id"])
