"""pytest plugin: prints the quality gates' figures at the end of the test run.

Registered in conftest.py (`pytest_plugins`). Tests record lines with `record()`;
the terminal summary shows them even when the tests pass and output is captured,
so `make test` (and CI) always show the documentation and test coverage figures.
"""

from __future__ import annotations

import pytest

FIGURES: list[str] = []


def record(*lines: str) -> None:
    """Keeps lines for the end-of-run summary (each line once, in order)."""
    for line in lines:
        if line not in FIGURES:
            FIGURES.append(line)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("quality gates")
        for line in FIGURES:
            terminalreporter.write_line(line)


# Under pytest-xdist the tests run in worker processes: their figures travel to the
# controller, which prints the summary, on each test's teardown report.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" and FIGURES:
        report.user_properties.append(("quality_gates", list(FIGURES)))


def pytest_runtest_logreport(report):
    for name, value in getattr(report, "user_properties", []):
        if name == "quality_gates":
            record(*value)
