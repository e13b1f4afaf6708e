"""tbdiff: explain why two TensorBoard runs of "the same" model behave differently.

The Python API (see README, "Python API"): `read_scalars`, `read_hparams`, `compare` and the
`Report` it returns. They are imported on first use, so `import tbdiff` (and `tbdiff --help`)
stays instant and pandas is needed only by the functions that return DataFrames.
"""

from tbdiff.errors import TbdiffError

__version__ = "0.1.0"

_LAZY = {
    "read_scalars": "tbdiff.api",
    "read_hparams": "tbdiff.api",
    "compare": "tbdiff.api",
    "Report": "tbdiff.report",
    "Finding": "tbdiff.findings.base",
    "TbdiffWarning": "tbdiff.diagnostics",
}
__all__ = ["TbdiffError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tbdiff' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
