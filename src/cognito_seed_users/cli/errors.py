"""The tool's own failure: one line on stderr, exit status 1."""

from __future__ import annotations


class CliError(Exception):
    """Bad input or an unreadable source (file, AWS): the message is one line that says what
    and, where it helps, how to fix it. It never holds an attribute or metadata value."""
