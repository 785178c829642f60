"""The wheel check's figures (size, files, synth times), printed in the run's summary."""

from __future__ import annotations

from typing import Any

import pytest

FIGURES: dict[str, Any] = {}
"""Filled by the fixtures of ``test_wheel.py``; the closing summary prints it."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("wheel")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name}: {value}")
