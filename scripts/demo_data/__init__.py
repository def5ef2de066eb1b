"""Demo data: synthetic transaction lines shaped like the UCI Online Retail file, quirks
included (cancellations, guests, duplicates, non-product codes, several date formats).

Used by `make demo-data` (the bundled data/demo file), by the benchmark for its large sizes,
and by tests that need dirty data of a known shape. It knows nothing of the dbt project:
like dbt Labs' `jafgen` beside jaffle-shop, it writes the raw file and stops there.
"""
