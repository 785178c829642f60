"""Synthesize one consumer app and print, as JSON, what the wheel check compares.

Run by ``tests/wheel/test_wheel.py`` with a given interpreter (the fresh venv holding only the
wheel, or the repository's), from a temporary directory holding this file and the consumer's
module: ``python inspect_consumer.py MODULE OUTDIR [--nag]``. It imports nothing from the
repository, so the library it synthesizes with is whichever that interpreter has installed.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk

import cognito_seed_users

CUSTOM_RESOURCE = "Custom::CognitoUserAttributes"


def main(module_name: str, outdir: Path, *, nag: bool) -> dict[str, Any]:
    """Synthesize ``module_name``'s ``build(app)`` into ``outdir``; the facts the check needs."""
    started = time.perf_counter()
    app = cdk.App(outdir=str(outdir))
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    importlib.import_module(module_name).build(app)
    app.synth()
    seconds = time.perf_counter() - started
    templates = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(outdir.glob("*.template.json"))
    }
    report_file = outdir / "validation-report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else None
    return {
        "library": str(Path(cognito_seed_users.__file__).resolve().parent),
        "version": cognito_seed_users.__version__,
        "synth_seconds": round(seconds, 2),
        "custom_resources": _custom_resources(templates),
        "functions": _functions(templates),
        "asset_files": _asset_files(outdir, templates),
        "nag": None if report is None else _nag(report),
    }


def _custom_resources(templates: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "template": name,
            "logical_id": logical_id,
            "service_token": resource["Properties"]["ServiceToken"],
            "properties": sorted(resource["Properties"]),
        }
        for name, template in templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == CUSTOM_RESOURCE
    ]


def _functions(templates: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "template": name,
            "logical_id": logical_id,
            "handler": resource["Properties"]["Handler"],
            "asset_hash": resource["Properties"]["Code"]["S3Key"].removesuffix(".zip"),
        }
        for name, template in templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    ]


def _asset_files(outdir: Path, templates: dict[str, Any]) -> dict[str, list[str]]:
    hashes = {function["asset_hash"] for function in _functions(templates)}
    return {
        asset_hash: sorted(
            str(path.relative_to(outdir / f"asset.{asset_hash}"))
            for path in (outdir / f"asset.{asset_hash}").rglob("*")
            if path.is_file()
        )
        for asset_hash in hashes
    }


def _nag(report: dict[str, Any]) -> dict[str, Any]:
    plugins = report["pluginReports"]
    return {
        "plugins": [plugin["pluginName"] for plugin in plugins],
        "violations": [
            f"{violation['ruleName']} at {construct['constructPath']}"
            for plugin in plugins
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        ],
        "acknowledged": sorted(
            {
                violation["ruleName"]
                for plugin in plugins
                for violation in plugin.get("suppressedViolations", [])
            }
        ),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path.cwd()))
    facts = main(sys.argv[1], Path(sys.argv[2]), nag="--nag" in sys.argv[3:])
    print(json.dumps(facts))
