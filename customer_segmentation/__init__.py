"""Python used by the dbt project's Python models: importable, tested by pytest."""
