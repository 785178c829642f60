"""``seed-users``: the operator's command-line tool (``python -m cognito_seed_users.cli``).

Subcommands: ``plan`` (what a deploy, or a destroy, would change), ``drift`` (what changed
outside deploys), ``status`` (what the ledger holds), ``orphans`` (owners whose stack or
resource is gone) and ``release`` (an operator's release of one owner, dry run by default).

It runs the provider function's own code: the ledger adapter, the Cognito adapter, the
property parser, the schema checks and ``plan_reconcile``. That code is the function's
top-level ``user_attributes`` package, not part of this library's namespace, so it is
registered here, before any module of this package imports it (``import_lambda_module``).

Exit status: 0 success (and, with ``--detailed-exitcode``, no changes), 2 changes (only with
``--detailed-exitcode``, for ``plan`` and ``drift``), 1 an error, reported as exactly one line
on stderr. No attribute value, original or ClientMetadata value is printed unless
``--show-values`` is given; a secret given by reference is never resolved for display.
"""

from __future__ import annotations

from ..runtime_rules import import_lambda_module

# The submodules import ``user_attributes``: it must be registered before they load.
import_lambda_module("user_attributes")

from .commands import main  # noqa: E402

__all__ = ["main"]
