"""The provider Lambda's own declaration rules, loaded from its code for synth-time checks.

Synth and deploy refuse the same declarations with the same words because both run the same
code: ``user_attributes/properties.py`` of the function (the wheel's prepared asset, or
``lambda/`` in a checkout). The function's ``user_attributes`` package is a top-level package
of the Lambda, not of this library, so it is loaded from that directory by path.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Final

from .function_asset import runtime_dir

# Stand-ins for a pool id (a pool created in the same app) or other text known at deploy time.
_PLACEHOLDER_POOL_ID: Final = "xx-xxxx-1_placeholder"
_PLACEHOLDER: Final = "placeholder"
_PACKAGE: Final = "user_attributes"
# CloudFormation resolves dynamic references before the custom resource sees the value.
_DYNAMIC_REFERENCE: Final = "{{resolve:"
# ...except these, which the Lambda's rules refuse: the secret would reach the event in clear.
_SECRET_DYNAMIC_REFERENCES: Final = ("{{resolve:secretsmanager:", "{{resolve:ssm-secure:")
_TOKEN_MARKERS: Final = ("${Token[", "#{Token[")


@dataclass(frozen=True)
class _Rules:
    parse_properties: Callable[[Mapping[str, object]], object]
    attribute_name_problem: Callable[[str], str | None]
    value_problem: Callable[[str, str], str | None]
    reapply_token_problem: Callable[[object], str | None]
    invalid_declaration: type[Exception]


def is_deploy_time(text: str) -> bool:
    """Whether ``text`` is only known at deploy time (a CDK token or a dynamic reference)."""
    if _DYNAMIC_REFERENCE in text:
        return not any(marker in text for marker in _SECRET_DYNAMIC_REFERENCES)
    # Every string token carries one of these markers; asking jsii costs a round trip to Node,
    # which a synth of thousands of users would pay several times per user.
    if not any(marker in text for marker in _TOKEN_MARKERS):
        return False
    # Imported here: without a marker no CDK token can be present, and the seed-file parser and
    # the operator tool must not load the CDK (and the Node.js process jsii starts) for text.
    from aws_cdk import Token  # noqa: PLC0415

    return Token.is_unresolved(text)


def attribute_name_problem(name: str) -> str | None:
    """Why ``name`` can never be a writable Cognito attribute, or None."""
    return _rules().attribute_name_problem(name)


def value_problem(name: str, value: str) -> str | None:
    """Why ``value`` can never be valid for attribute ``name``, or None; never quotes the value."""
    if is_deploy_time(value):
        return None
    return _rules().value_problem(name, value)


def reapply_token_problem(token: object) -> str | None:
    """Why ``token`` cannot be a ``ReapplyToken``, or None (the function's own rule)."""
    if isinstance(token, str) and is_deploy_time(token):
        return None
    return _rules().reapply_token_problem(token)


def declaration_problem(properties: Mapping[str, object]) -> str | None:
    """Everything the Lambda would refuse in these custom resource properties, or None.

    Parts only known at deploy time are checked as far as they can be: a placeholder stands in
    for a tokenized pool id, username or metadata value, and an attribute with a deploy-time
    value has its name checked but not its value.
    """
    rules = _rules()
    try:
        rules.parse_properties(_checkable(properties))
    except rules.invalid_declaration as error:
        return str(error)
    return None


def _checkable(properties: Mapping[str, object]) -> dict[str, object]:
    checkable = dict(properties)
    for key, placeholder in (
        ("UserPoolId", _PLACEHOLDER_POOL_ID),
        ("Username", _PLACEHOLDER),
        ("ReapplyToken", _PLACEHOLDER),
    ):
        if _deploy_time(checkable.get(key)):
            checkable[key] = placeholder
    attributes = checkable.get("UserAttributes")
    absent = checkable.get("AbsentAttributes", [])
    if isinstance(attributes, list) and isinstance(absent, list):
        known: list[object] = []
        names_only: list[object] = []
        for item in attributes:
            value_from = item.get("ValueFrom") if isinstance(item, Mapping) else None
            reference_at_deploy = isinstance(value_from, Mapping) and any(
                _deploy_time(part) for part in value_from.values()
            )
            if not isinstance(item, Mapping) or not (
                _deploy_time(item.get("Value")) or reference_at_deploy
            ):
                known.append(item)
            elif not _deploy_time(item.get("Name")):
                names_only.append(item.get("Name"))
        checkable["UserAttributes"] = known
        if names_only:
            # The absent list gets the same name and duplicate checks, and no value check.
            checkable["AbsentAttributes"] = [*absent, *names_only]
    metadata = checkable.get("ClientMetadata")
    if isinstance(metadata, Mapping):
        checkable["ClientMetadata"] = {
            key: _PLACEHOLDER if _deploy_time(value) else value for key, value in metadata.items()
        }
    return checkable


def _deploy_time(value: object) -> bool:
    return isinstance(value, str) and is_deploy_time(value)


@functools.cache
def _rules() -> _Rules:
    properties = import_lambda_module(f"{_PACKAGE}.properties")
    errors = import_lambda_module(f"{_PACKAGE}.errors")
    return _Rules(
        parse_properties=properties.parse_properties,
        attribute_name_problem=properties.attribute_name_problem,
        value_problem=properties.value_problem,
        reapply_token_problem=properties.reapply_token_problem,
        invalid_declaration=errors.InvalidDeclaration,
    )


def import_lambda_module(name: str) -> ModuleType:
    """Module ``name`` of the function's ``user_attributes`` package (the function's own code)."""
    lambda_dir = runtime_dir()
    package_dir = (lambda_dir / _PACKAGE).resolve()
    loaded = sys.modules.get(_PACKAGE)
    if loaded is None:
        spec = importlib.machinery.PathFinder.find_spec(_PACKAGE, [str(lambda_dir)])
        if spec is None or spec.loader is None:
            raise ImportError(f"the Lambda package {_PACKAGE} is missing from {lambda_dir}")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = loaded
        spec.loader.exec_module(loaded)
    elif package_dir not in {Path(entry).resolve() for entry in loaded.__path__}:
        # The Lambda's tests put lambda/ on sys.path; any other user_attributes is not ours.
        raise ImportError(f"{_PACKAGE} is already imported from elsewhere, not {package_dir}")
    return importlib.import_module(name)
