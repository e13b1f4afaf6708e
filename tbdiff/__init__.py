"""tbdiff: explain why two TensorBoard runs of "the same" model behave differently."""

__version__ = "0.1.0"
