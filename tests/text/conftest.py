"""Hang guards for every text routine: ~1 MB texts (`pathological.py`), each with a generous wall bound.

Linear code takes milliseconds to a second on these; the quadratic code they were written against takes
minutes, so the bound cannot flake. Speed figures belong in `bench/hostile_text.py`, not here.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from pathological import ...`
