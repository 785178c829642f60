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
