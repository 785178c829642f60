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


NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"


class SynthesizedNestedStack(SynthesizedStack):
    """A nested stack of a synthesized stack: its template (``*.nested.template.json``) and the
    parameters the parent passes it (unresolved: expressions over the parent's resources)."""

    def __init__(
        self,
        assembly_dir: Path,
        parent: str,
        logical_id: str,
        template_file: str,
        parameters: Mapping[str, Any],
    ) -> None:
        # Not SynthesizedStack.__init__: a nested stack is no artifact of the manifest.
        self.assembly_dir = Path(assembly_dir)
        self.name = f"{parent}-{logical_id}"
        self.parent = parent
        self.logical_id = logical_id
        self.template_file = template_file
        self.parameters: dict[str, Any] = dict(parameters)
        self.template = json.loads((self.assembly_dir / template_file).read_text())

    def parameter_values(
        self, physical: Mapping[str, str], attributes: Mapping[str, str]
    ) -> dict[str, str]:
        """Each parameter's value, resolved against the parent's physical names; ``resolve``
        a nested resource's properties with these added to ``physical`` (a ``Ref`` to a
        parameter is its value)."""
        return {
            name: str(resolve(value, physical, attributes))
            for name, value in self.parameters.items()
        }


def nested_stacks(stack: SynthesizedStack) -> list[SynthesizedNestedStack]:
    """The nested stacks (``AWS::CloudFormation::Stack`` resources) of a synthesized stack, in
    template order, each with its template read from the assembly. The template file comes
    from the resource's ``aws:asset:path`` metadata (what the CDK CLI turns on), else from the
    asset manifest entry whose hash the ``TemplateURL`` ends with."""
    found = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != NESTED_STACK_TYPE:
            continue
        properties = resource.get("Properties", {})
        template_file = resource.get("Metadata", {}).get("aws:asset:path")
        if template_file is None:
            template_file = _nested_template_file(stack, properties.get("TemplateURL"))
        found.append(
            SynthesizedNestedStack(
                stack.assembly_dir,
                stack.name,
                logical_id,
                str(template_file),
                properties.get("Parameters", {}),
            )
        )
    return found


def _nested_template_file(stack: SynthesizedStack, url: object) -> str:
    text = json.dumps(url)
    for manifest in stack.assembly_dir.glob("*.assets.json"):
        for asset_hash, entry in json.loads(manifest.read_text()).get("files", {}).items():
            path = str(entry.get("source", {}).get("path", ""))
            if path.endswith(".nested.template.json") and f"/{asset_hash}.json" in text:
                return path
    raise LookupError(f"{stack.name}: no nested template in the assembly for {text[:200]}")
