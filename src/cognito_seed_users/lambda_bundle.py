"""Build the provider Lambda's asset on the synth host: no Docker, no network.

An installed wheel carries the asset prepared at build time (``lambda_asset/``: the handler and
crhelper); a checkout of the repository builds the same files from ``lambda/`` and the
crhelper pinned in ``lambda/requirements.txt``, copied from this Python environment. Either way
the asset is hashed by its output, so both give the same hash and the same function code.
Copying installed packages is sound only for pure-Python wheels (the function runs on arm64 /
Python 3.13, the synth host may not), so anything else is refused rather than shipped broken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

from .function_asset import PACKAGED_ASSET, runtime_dir, write_asset

# Only named so the asset declares what a Docker build would use; the local bundler always
# succeeds or raises, so Docker is never started.
_BUILD_IMAGE: Final = "public.ecr.aws/sam/build-python3.13"


def lambda_code() -> lambda_.Code:
    """The provider's code, bundled locally and hashed by its output (what actually ships)."""
    source = runtime_dir()
    requirements = None if source == PACKAGED_ASSET else source / "requirements.txt"
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_BUILD_IMAGE),
            local=LocalPythonBundler(source=source, requirements=requirements),
        ),
    )


@jsii.implements(ILocalBundling)
class LocalPythonBundler:
    """Copies the Lambda source and its pinned, installed, pure-Python dependencies."""

    def __init__(self, *, source: Path, requirements: Path | None) -> None:
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
        write_asset(Path(output_dir), source=self._source, requirements=self._requirements)
        return True
