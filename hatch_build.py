"""Wheel build hook: put the provider function's prepared asset inside the wheel.

The wheel carries ``cognito_seed_users/lambda_asset/``: ``lambda/`` and the crhelper pinned in
``lambda/requirements.txt`` (a build requirement in ``pyproject.toml``, so the build environment
has it), written by the same ``write_asset`` a checkout uses at synth time. A consumer then
needs neither this repository nor crhelper. Editable installs get nothing: a checkout builds the
asset from ``lambda/`` at synth time.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ASSET_IN_WHEEL = "cognito_seed_users/lambda_asset"


def _function_asset(root: Path) -> ModuleType:
    # By path: importing the package itself would import aws_cdk, which the build lacks.
    path = root / "src" / "cognito_seed_users" / "function_asset.py"
    spec = importlib.util.spec_from_file_location("_function_asset", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaAssetHook(BuildHookInterface):  # type: ignore[type-arg]
    """Prepares ``lambda_asset/`` for the wheel target."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Write the asset to a temporary directory and map it into the wheel."""
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        lambda_dir = root / "lambda"
        self._directory = tempfile.TemporaryDirectory(prefix="lambda-asset-")
        output = Path(self._directory.name)
        _function_asset(root).write_asset(
            output, source=lambda_dir, requirements=lambda_dir / "requirements.txt"
        )
        build_data["force_include"][str(output)] = ASSET_IN_WHEEL

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary asset directory."""
        directory = getattr(self, "_directory", None)
        if directory is not None:
            directory.cleanup()
