"""Read a synthesized cloud assembly the way CloudFormation and Lambda would see it.

Finds each stack's template, the provider function (its built asset directory, handler and
environment), the tables it needs, and the custom resources; resolves the intrinsic functions
those use (``Ref``, ``Fn::GetAtt``, ``Fn::Join``) against the physical names we provision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CUSTOM_RESOURCE_TYPE = "Custom::CognitoUserAttributes"


@dataclass(frozen=True)
class Function:
    logical_id: str
    asset_dir: Path
    handler: str
    timeout_s: int
    environment: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    logical_id: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]


@dataclass(frozen=True)
class CustomResource:
    logical_id: str
    properties: Mapping[str, Any]


class SynthesizedStack:
    """One stack of a cloud assembly directory (``cdk.out``)."""

    def __init__(self, assembly_dir: Path, stack_name: str) -> None:
        self.assembly_dir = Path(assembly_dir)
        manifest = json.loads((self.assembly_dir / "manifest.json").read_text())
        artifact = manifest["artifacts"][stack_name]
        template_file = artifact["properties"]["templateFile"]
        self.name = stack_name
        self.template: dict[str, Any] = json.loads((self.assembly_dir / template_file).read_text())

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template.get("Resources", {}))

    def functions(self) -> list[Function]:
        functions = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            asset = resource.get("Metadata", {}).get("aws:asset:path")
            if asset is None:
                continue
            properties = resource["Properties"]
            functions.append(
                Function(
                    logical_id=logical_id,
                    asset_dir=self.assembly_dir / asset,
                    handler=properties["Handler"],
                    timeout_s=int(properties.get("Timeout", 3)),
                    environment=properties.get("Environment", {}).get("Variables", {}),
                )
            )
        return functions

    def tables(self) -> list[Table]:
        return [
            Table(
                logical_id=logical_id,
                key_schema=resource["Properties"]["KeySchema"],
                attribute_definitions=resource["Properties"]["AttributeDefinitions"],
            )
            for logical_id, resource in self.resources.items()
            if resource["Type"] == "AWS::DynamoDB::Table"
        ]

    def custom_resources(self, resource_type: str = CUSTOM_RESOURCE_TYPE) -> list[CustomResource]:
        return [
            CustomResource(logical_id, resource.get("Properties", {}))
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        ]


def resolve(value: Any, physical: Mapping[str, str], attributes: Mapping[str, str]) -> Any:  # noqa: ANN401
    """Resolve intrinsics: ``Ref`` to ``physical[logical_id]``, ``Fn::GetAtt`` to
    ``attributes["<logical_id>.<attribute>"]``, ``Fn::Join`` by joining."""
    if isinstance(value, list):
        return [resolve(item, physical, attributes) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return _pseudo(value["Ref"]) or physical[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return attributes[f"{logical_id}.{attribute}"]
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, physical, attributes)) for part in parts)
    return {key: resolve(item, physical, attributes) for key, item in value.items()}


def _pseudo(name: str) -> str | None:
    return {
        "AWS::Region": "eu-west-1",
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }.get(name)
