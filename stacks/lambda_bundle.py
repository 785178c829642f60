"""Build the provider Lambda's asset on the synth host: no Docker, no network.

The asset is the ``lambda/`` tree plus every runtime dependency pinned in
``lambda/requirements.txt``, copied from this Python environment's installed distributions.
That is sound only for pure-Python wheels (the function runs on arm64 / Python 3.13, the synth
host may not), so anything else is refused rather than shipped broken.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingFileAccess,
    BundlingOptions,
    BundlingOutput,
    DockerImage,
    DockerVolume,
    ILocalBundling,
)
from aws_cdk import aws_lambda as lambda_

LAMBDA_DIR: Final = Path(__file__).resolve().parents[1] / "lambda"
LAMBDA_REQUIREMENTS: Final = LAMBDA_DIR / "requirements.txt"

# Only named so the asset declares what a Docker build would use; the local bundler always
# succeeds or raises, so Docker is never started.
_BUILD_IMAGE: Final = "public.ecr.aws/sam/build-python3.13"
_SKIPPED: Final = ("__pycache__", "*.pyc", "tests", ".*")
_PIN: Final = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")


class BundlingError(RuntimeError):
    """The Lambda asset cannot be built from this environment; the message says how to fix it."""


def lambda_code() -> lambda_.Code:
    """The provider's code, bundled locally and hashed by its output (what actually ships)."""
    return lambda_.Code.from_asset(
        str(LAMBDA_DIR),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_BUILD_IMAGE),
            local=LocalPythonBundler(source=LAMBDA_DIR, requirements=LAMBDA_REQUIREMENTS),
        ),
    )


def pinned_requirements(requirements: Path) -> dict[str, str]:
    """``name -> version`` for every line of a requirements file; only ``name==version`` lines.

    Ranges are refused: the bundler copies what is installed, so the pin is what makes the
    asset reproducible.
    """
    pins: dict[str, str] = {}
    for number, line in enumerate(requirements.read_text(encoding="utf-8").splitlines(), 1):
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        match = _PIN.fullmatch(requirement)
        if match is None:
            raise BundlingError(
                f"{requirements.name} line {number}: pin each Lambda dependency as name==version "
                "(the local bundler copies installed packages; it cannot resolve ranges)"
            )
        pins[match["name"]] = match["version"]
    return pins


@jsii.implements(ILocalBundling)
class LocalPythonBundler:
    """Copies the Lambda source and its pinned, installed, pure-Python dependencies."""

    def __init__(self, *, source: Path, requirements: Path) -> None:
        self._source = source
        self._requirements = requirements

    def try_bundle(
        self,
        output_dir: str,
        *,
        image: DockerImage,
        bundling_file_access: BundlingFileAccess | None = None,
        command: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
        local: ILocalBundling | None = None,
        network: str | None = None,
        output_type: BundlingOutput | None = None,
        platform: str | None = None,
        security_opt: str | None = None,
        user: str | None = None,
        volumes: Sequence[DockerVolume | dict[str, Any]] | None = None,
        volumes_from: Sequence[str] | None = None,
        working_directory: str | None = None,
    ) -> bool:
        """Build the asset into ``output_dir``; raises ``BundlingError`` instead of returning False.

        Returning False would make CDK fall back to Docker, which this project does not use.
        The Docker options are part of the jsii interface and mean nothing to a local copy.
        """
        output = Path(output_dir)
        shutil.copytree(
            self._source, output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_SKIPPED)
        )
        for name, version in pinned_requirements(self._requirements).items():
            _copy_distribution(name, version, self._requirements, output)
        return True


def _copy_distribution(name: str, version: str, pinned_in: Path, output: Path) -> None:
    try:
        distribution = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise BundlingError(
            f"{name}=={version} is pinned in {pinned_in} but not installed here; "
            "run: pip install -r requirements.txt"
        ) from None
    if distribution.version != version:
        raise BundlingError(
            f"{name} {distribution.version} is installed but {pinned_in} pins {version}; "
            "run: pip install -r requirements.txt"
        )
    if "Root-Is-Purelib: true" not in (distribution.read_text("WHEEL") or ""):
        raise BundlingError(
            f"{name} is not a pure-Python wheel; it cannot be copied into an arm64 asset "
            "from this host"
        )
    for file in distribution.files or ():
        relative = Path(file)
        if ".." in relative.parts or relative.suffix == ".pyc":
            continue
        target = output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(distribution.locate_file(file)), target)
