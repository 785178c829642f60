"""The pool-configuration matrix: fixtures, and the matrix printed in the test summary.

The handler scenarios reuse ``tests/handler``'s fixtures (the real ``index.handler`` in a
``LambdaContainer``, moto under the strict Cognito layer, the HTTPS sink); the random lifecycles
reuse ``tests/lifecycle``'s synthesized app. ``configuration`` is parametrized over
``configurations.CONFIGURATIONS``.

The summary (section "pool-configuration matrix") has one row per configuration and one column
per scenario; a cell is ``passed/ran``, with ``x`` for an expected failure (a known handler
defect, see the test's reason), ``-`` for a scenario that does not apply to the configuration
and ``F`` marking failures. Under ``pytest -n`` the controller prints it when it loaded this
file, i.e. when ``tests/matrix`` (or a file in it) is on the command line; a plain ``pytest`` of
the whole suite prints it only without ``-n``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest

from cfnlocal.cognito_fidelity import CognitoFidelity
from cfnlocal.seed_pool import create_ledger_table
from tests.handler import conftest as handler
from tests.handler.conftest import AwsCalls, RecordingDriver
from tests.handler.helpers import LEDGER
from tests.lifecycle import conftest as lifecycle

from .configurations import CONFIGURATIONS, PoolConfiguration
from .lifecycles import EXAMPLES, STEPS
from .support import COLUMN_LABELS, SCENARIO_ORDER, Matrix

# tests/handler's fixtures (the handler in a LambdaContainer, its boto3 default session, the
# call recorder) and tests/lifecycle's synthesized app, registered here by name.
default_session = handler.default_session
cognito = handler.cognito
dynamodb = handler.dynamodb
new_container = handler.new_container
container = handler.container
driver = handler.driver
aws_calls = handler.aws_calls
synthesized = lifecycle.synthesized

_NODE = re.compile(r"tests/matrix/test_matrix\.py::test_(?P<scenario>\w+)\[(?P<config>[\w-]+)\]")
_CELLS: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
_LIFECYCLE_STATS: dict[str, dict[str, object]] = {}


@pytest.fixture(params=CONFIGURATIONS, ids=lambda c: c.name)
def configuration(request: pytest.FixtureRequest) -> PoolConfiguration:
    configuration: PoolConfiguration = request.param
    return configuration


@pytest.fixture
def matrix(
    configuration: PoolConfiguration,
    cognito: Any,
    dynamodb: Any,
    driver: RecordingDriver,
    aws_calls: AwsCalls,
    fidelity: CognitoFidelity,
) -> Matrix:
    create_ledger_table(dynamodb, LEDGER)
    return Matrix(
        configuration=configuration,
        cognito=cognito,
        dynamodb=dynamodb,
        driver=driver,
        aws_calls=aws_calls,
        fidelity=fidelity,
        pool_id=configuration.create_pool(cognito),
    )


# -- the matrix in the terminal summary ---------------------------------------------------------


def _outcome(report: pytest.TestReport) -> str | None:
    """passed | failed | xfailed | skipped for the phase that decides it, else None."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "failed"  # strict: an xpass fails
        return report.outcome
    if report.failed:
        return "failed"  # an error in setup or teardown fails the cell
    if report.when == "setup" and report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    match = _NODE.search(report.nodeid.replace("\\", "/"))
    outcome = _outcome(report)
    if match is None or outcome is None or match["scenario"] not in SCENARIO_ORDER:
        return
    _CELLS[(match["config"], match["scenario"])][outcome] += 1
    stats = {
        str(name)[len("matrix:") :]: value
        for name, value in report.user_properties
        if str(name).startswith("matrix:")
    }
    if stats:
        _LIFECYCLE_STATS[match["config"]] = stats


def _cell(counts: dict[str, int]) -> str:
    passed = counts.get("passed", 0)
    failed = counts.get("failed", 0)
    xfailed = counts.get("xfailed", 0)
    ran = passed + failed + xfailed
    if not ran:
        return "-" if counts.get("skipped") else ""
    text = f"{passed}/{ran}"
    if xfailed:
        text += f"x{xfailed}"
    if failed:
        text += f"F{failed}"
    return text


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _CELLS:
        return
    scenarios = [s for s in SCENARIO_ORDER if any(k[1] == s for k in _CELLS)]
    configurations = [c.name for c in CONFIGURATIONS if any(k[0] == c.name for k in _CELLS)]
    labels = [COLUMN_LABELS[s] for s in scenarios]
    width = max(len(name) for name in configurations) + 1
    columns = [max(len(label), 5) for label in labels]
    write = terminalreporter.write_line
    terminalreporter.section("pool-configuration matrix")
    write(
        " " * width
        + " ".join(lab.ljust(w) for lab, w in zip(labels, columns, strict=True))
        + " total"
    )
    totals: dict[str, int] = defaultdict(int)
    for config in configurations:
        row: dict[str, int] = defaultdict(int)
        cells = []
        for scenario, column in zip(scenarios, columns, strict=True):
            counts = _CELLS.get((config, scenario), {})
            for key, value in counts.items():
                row[key] += value
                totals[key] += value
            cells.append(_cell(counts).ljust(column))
        write(config.ljust(width) + " ".join(cells) + " " + _cell(row))
    write(
        f"cells: {totals.get('passed', 0)} passed, {totals.get('failed', 0)} failed, "
        f"{totals.get('xfailed', 0)} expected failures (known handler defects, x), "
        f"{totals.get('skipped', 0)} not applicable (-)"
    )
    write(
        "columns: c/u/d create-update-delete, 2owners two owners of one user, rollback the "
        "Delete after a failed Create, email:v/u/- phone:v/u/- restore of a verified, "
        "unverified, absent original, own the configuration's own rule, random the random "
        f"lifecycles ({EXAMPLES} examples x {STEPS} steps each, fixed seed)"
    )
    for config in configurations:
        stats = _LIFECYCLE_STATS.get(config)
        if stats:
            shown = ", ".join(f"{name} {value}" for name, value in sorted(stats.items()))
            write(f"random lifecycles, {config}: {shown}")
