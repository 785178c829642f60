"""The provider function's files: the handler source plus its pinned, pure-Python dependencies.

This module imports nothing beyond the standard library, because the wheel's build hook
(``hatch_build.py``) runs it in a build environment that has crhelper but no CDK. The wheel
ships the directory it builds (``lambda_asset/``); a checkout of the repository builds the same
files from ``lambda/`` at synth time. Both give the same bytes, hence the same asset hash: only
files that every installer writes identically are copied (no ``RECORD``, ``INSTALLER``,
``REQUESTED`` or ``direct_url.json``, which differ between pip, uv and build isolation).
"""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Final

PACKAGE_DIR: Final = Path(__file__).resolve().parent
PACKAGED_ASSET: Final = PACKAGE_DIR / "lambda_asset"
"""The prepared asset inside an installed wheel (absent in a checkout)."""
CHECKOUT_LAMBDA_DIR: Final = PACKAGE_DIR.parents[1] / "lambda"
"""The function's source in a checkout of the repository (``src/cognito_seed_users`` -> root)."""

SKIPPED: Final = ("__pycache__", "*.pyc", "tests", ".*")
_INSTALLER_FILES: Final = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_PIN: Final = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")


class BundlingError(RuntimeError):
    """The Lambda asset cannot be built from this environment; the message says how to fix it."""


def runtime_dir() -> Path:
    """The directory that holds the function's code (``index.py``, ``user_attributes/``).

    The installed wheel's prepared asset when there is one, else the checkout's ``lambda/``.
    """
    if PACKAGED_ASSET.is_dir():
        return PACKAGED_ASSET
    if CHECKOUT_LAMBDA_DIR.is_dir():
        return CHECKOUT_LAMBDA_DIR
    raise BundlingError(
        f"the provider function's code is missing: neither {PACKAGED_ASSET} (an installed "
        f"wheel) nor {CHECKOUT_LAMBDA_DIR} (a checkout) exists; reinstall cognito-seed-users"
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


def write_asset(output: Path, *, source: Path, requirements: Path | None) -> None:
    """Copy ``source`` (no bytecode, tests or dot files) and each pinned dependency to ``output``.

    ``requirements`` is None for a prepared asset, which already holds its dependencies.
    """
    shutil.copytree(source, output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIPPED))
    if requirements is None:
        return
    for name, version in pinned_requirements(requirements).items():
        _copy_distribution(name, version, requirements, output)


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
        if ".." in relative.parts or relative.suffix == ".pyc" or "__pycache__" in relative.parts:
            continue
        if relative.parts[0].endswith(".dist-info") and relative.name in _INSTALLER_FILES:
            continue
        target = output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(distribution.locate_file(file)), target)
