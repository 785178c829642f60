"""What a deploy declares, read as the function will see it: from a seed-users file
(``--config``) or from a synthesized cloud assembly (``--cdk-out``).

A seed file goes through the library's own parser (``load_seed_document``,
``parse_seed_file``) and the construct's ``resource_properties``; a cloud assembly gives the
``Custom::CognitoUserAttributes`` properties of every stack template, nested ones included.
Either way the properties are parsed by the function's ``parse_properties``, so the
declaration is exactly the one the function would act on.

Each resource carries its stack name and logical id: the ledger's owner records say where
an owner comes from (stack id and logical id), which is how ``plan`` finds the owner a
declaration already is (see ``plan``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from user_attributes.errors import InvalidDeclaration
from user_attributes.model import Declaration
from user_attributes.properties import parse_properties

from ..logical_ids import user_logical_id
from ..seed_users_config import SeedConfigError, load_seed_document, parse_seed_file
from .errors import CliError

RESOURCE_TYPE: Final = "Custom::CognitoUserAttributes"
_NESTED_STACK_TYPE: Final = "AWS::CloudFormation::Stack"
_STACK_ARTIFACT: Final = "aws:cloudformation:stack"
_PROVIDER_KEYS: Final = ("ServiceToken", "ServiceTimeout")
"""Properties for CloudFormation and the provider, not part of the declaration."""


@dataclass(frozen=True)
class DeclaredResource:
    """One ``Custom::CognitoUserAttributes`` resource of a deploy."""

    stack_name: str
    """The top-level stack (a nested stack's resources count as its parent's)."""
    logical_id: str
    declaration: Declaration


def from_seed_file(
    path: Path, *, stack_name: str, user_pool_id: str | None
) -> list[DeclaredResource]:
    """The resources ``SeedUsers`` makes of a seed-users file, in the file's order.

    :param user_pool_id: the ``userPoolId`` context override, as ``cdk deploy -c`` gives it.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"{source}: cannot read the file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{source}: cannot read the file: not UTF-8 text") from None
    try:
        seed_file = parse_seed_file(
            load_seed_document(text, source=source),
            source=source,
            user_pool_id_override=user_pool_id,
        )
    except SeedConfigError as error:
        raise CliError(str(error)) from None
    resources = []
    for user in seed_file.users:
        properties = user.resource_properties()
        logical_id = user_logical_id(user.user_pool_id, user.username)
        resources.append(
            DeclaredResource(stack_name, logical_id, _parse(properties, f"{source}: {logical_id}"))
        )
    return resources


def from_cloud_assembly(directory: Path, *, stack_name: str | None) -> list[DeclaredResource]:
    """Every ``Custom::CognitoUserAttributes`` of the assembly's stacks (``stack_name``: only
    that stack), with the resources of their nested stacks."""
    manifest_file = directory / "manifest.json"
    manifest = _read_json(manifest_file)
    artifacts = manifest.get("artifacts") if isinstance(manifest, Mapping) else None
    if not isinstance(artifacts, Mapping):
        raise CliError(f"{manifest_file}: not a cloud assembly manifest (no artifacts)")
    resources: list[DeclaredResource] = []
    found_stack = False
    for artifact_id, artifact in sorted(artifacts.items()):
        if not isinstance(artifact, Mapping) or artifact.get("type") != _STACK_ARTIFACT:
            continue
        properties = artifact.get("properties", {})
        name = str(properties.get("stackName") or artifact_id)
        if stack_name is not None and stack_name not in (name, artifact_id):
            continue
        found_stack = True
        template_file = str(properties.get("templateFile", f"{artifact_id}.template.json"))
        resources.extend(_resources_of(directory, template_file, name))
    if not found_stack:
        wanted = f"stack {stack_name}" if stack_name else "any stack"
        raise CliError(f"{directory}: no {wanted} in the cloud assembly (check --stack-name)")
    return resources


def _resources_of(
    directory: Path, template_file: str, stack_name: str
) -> Iterator[DeclaredResource]:
    where = directory / template_file
    template = _read_json(where)
    raw_resources = template.get("Resources", {}) if isinstance(template, Mapping) else {}
    for logical_id, resource in raw_resources.items():
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if kind == RESOURCE_TYPE:
            properties = {
                key: value
                for key, value in resource.get("Properties", {}).items()
                if key not in _PROVIDER_KEYS
            }
            context = f"{where.name}: {logical_id}"
            _refuse_deploy_time(properties, context)
            yield DeclaredResource(stack_name, logical_id, _parse(properties, context))
        elif kind == _NESTED_STACK_TYPE:
            yield from _resources_of(directory, _nested_template(directory, resource), stack_name)


def _nested_template(directory: Path, resource: Mapping[str, Any]) -> str:
    """The nested template's file: the ``aws:asset:path`` metadata the CDK CLI turns on, else
    the asset manifest entry whose hash the ``TemplateURL`` names."""
    path = resource.get("Metadata", {}).get("aws:asset:path")
    if isinstance(path, str):
        return path
    url = json.dumps(resource.get("Properties", {}).get("TemplateURL"))
    for manifest in sorted(directory.glob("*.assets.json")):
        files = _read_json(manifest).get("files", {})
        for asset_hash, entry in files.items():
            source = str(entry.get("source", {}).get("path", ""))
            if source.endswith(".nested.template.json") and f"/{asset_hash}.json" in url:
                return source
    raise CliError(f"{directory}: a nested stack's template is not in the cloud assembly")


def _refuse_deploy_time(properties: Mapping[str, object], context: str) -> None:
    """An intrinsic function (a pool created in the same app: ``Ref``) is only known at
    deploy time; the tool cannot read a user it cannot name."""
    for key, value in properties.items():
        if isinstance(value, Mapping) and any(
            name == "Ref" or name.startswith("Fn::") for name in value
        ):
            raise CliError(
                f"{context}: {key} is only known at deploy time; plan from the seed file "
                "(--config) instead"
            )


def _parse(properties: Mapping[str, object], context: str) -> Declaration:
    try:
        return parse_properties(properties)
    except InvalidDeclaration as error:
        raise CliError(f"{context}: {error}") from None


def _read_json(path: Path) -> Any:  # noqa: ANN401 - a JSON document
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError(f"{path}: cannot read the file: {error.strerror}") from None
    except ValueError:
        raise CliError(f"{path}: not valid JSON") from None
