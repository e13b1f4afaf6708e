"""Small numeric helpers shared by front-ends and detectors (no graph knowledge)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def as_scalar(value: Any) -> float | None:
    """A Python float for scalar-like values (0-d or single-element arrays, bools, numbers)."""
    if value is None or isinstance(value, str | bytes):
        return None
    if isinstance(value, bool | int | float | np.bool_ | np.number):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(-1)[0])
    if isinstance(value, list | tuple) and len(value) == 1:
        return as_scalar(value[0])
    return None


def scalar(v: Any) -> float | None:
    """A constant as one float when it is a scalar or all its elements are equal."""
    if v is None or isinstance(v, str | bytes):
        return None
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.size == 0:
        return None
    flat = arr.ravel()
    if np.all(flat == flat[0]):
        return float(flat[0])
    return None


def rnd(x: float | None, digits: int = 6) -> float | None:
    """Round to significant digits so float32 constants compare and print cleanly."""
    if x is None or not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


def r4(x: float | None) -> float | None:
    """Round probabilities for reports (0.30000001192 -> 0.3)."""
    return None if x is None else round(float(x), 4)


def fmt_prob(p: float | None) -> str:
    """0.3 -> '30%' (one decimal only when needed)."""
    if p is None:
        return "unknown"
    pct = round(p * 100, 1)
    return f"{pct:g}%"


def fmt_num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def number(v: Any) -> float | None:
    """A recorded value as a float ("0.001", 1e-3, True -> None), None when it is not a number."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float | np.number):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None
