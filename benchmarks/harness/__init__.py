"""Machinery shared by the benchmarks; not a benchmark itself (``make bench`` runs only
``benchmarks/*.py``). Importing it puts the repository root on ``sys.path``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]
LAMBDA_DIR: Final = ROOT / "lambda"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def isolate_in_process_aws() -> None:
    """Dummy credentials, an explicit Region and no endpoint override: every call goes to the
    in-process moto (``mock_aws``)."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


def machine() -> str:
    """The machine a figure was measured on (and how busy it was)."""
    import platform

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, load average {load}"
    )
