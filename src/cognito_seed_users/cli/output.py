"""What the tool prints: a rich table for people, or one JSON document (``--json``) that
``output.schema.json`` describes, and the redaction both go through.

Every attribute value, original and ClientMetadata value passes ``shown``/``text`` before it
is printed. Without ``--show-values`` a value is ``(sensitive, 17 chars)``; values are compared
before this (the decisions run over real values), so a change still shows as one. A secret
given by reference is shown as its reference, which the template states anyway; the tool never
reads what it resolves to.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from user_attributes.model import ABSENT, Declared, SecretRef

SCHEMA_PATH: Final = Path(__file__).with_name("output.schema.json")
SCHEMA_VERSION: Final = 1


def shown(value: Declared, *, reveal: bool) -> dict[str, object]:
    """A value as the JSON output carries it (``$defs/value`` in the schema)."""
    if value is ABSENT:
        return {"kind": "absent"}
    if isinstance(value, SecretRef):
        return {"kind": "reference", "reference": str(value)}
    document: dict[str, object] = {"kind": "value", "length": len(value)}
    if reveal:
        document["value"] = value
    return document


def text(value: Declared | None, *, reveal: bool) -> str:
    """A value as a table cell: never the value itself unless ``reveal``."""
    if value is None:
        return ""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, SecretRef):
        return f"(secret: {value})"
    if reveal:
        return repr(value)
    return f"(sensitive, {len(value)} chars)"


@dataclass(frozen=True)
class TableData:
    """One table: a title, column headers and rows of cells (already redacted)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Report:
    """A command's result: the JSON document and the tables and summary lines for people."""

    document: dict[str, Any]
    tables: Sequence[TableData] = ()
    summary: Sequence[str] = field(default_factory=list)


def document(command: str, *, reveal: bool, **fields: object) -> dict[str, Any]:
    """The envelope every ``--json`` output shares."""
    return {"schema_version": SCHEMA_VERSION, "command": command, "values_shown": reveal, **fields}


def emit(report: Report, *, as_json: bool, stream: TextIO | None = None) -> None:
    """Print ``report`` on stdout: one JSON document, or its tables then its summary lines."""
    out = stream or sys.stdout
    if as_json:
        out.write(json.dumps(report.document, indent=2, sort_keys=True) + "\n")
        return
    # Not a terminal (a pipe, a CI log): wide enough that ids are not cut.
    console = Console(file=out, width=None if out.isatty() else 200, highlight=False)
    for data in report.tables:
        if not data.rows:
            continue
        table = Table(title=data.title, title_justify="left", show_lines=False)
        for column in data.columns:
            table.add_column(column, overflow="fold")
        for row in data.rows:
            # Text, not str: a value holding [brackets] must never be read as rich markup.
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    for line in report.summary:
        console.print(Text(line))


def progress_wanted(count: int, stream: TextIO | None = None) -> bool:
    """A progress bar only for more than a few users, and only on a terminal: in a pipe or a
    CI log it would be noise between the error line and the output."""
    err = stream or sys.stderr
    return count > PROGRESS_THRESHOLD and err.isatty()


PROGRESS_THRESHOLD: Final = 10
