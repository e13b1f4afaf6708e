"""THE op vocabulary: what TensorFlow op types mean, for every module that reads op graphs.

Alignment, the layer finder and the TF graph front-end all classify ops through these sets, so
a variable, a pass-through op, a random source or a gradient node is the same thing everywhere.
Names of optimizer / loss / metric *classes* (Keras, hparams, PyTorch) live in `model.names`.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------------------ variables

#: ops that own a variable (TF1 ref variables, resource variables)
VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VariableV1", "VarHandleOp"})
PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderWithDefault", "PlaceholderV2"})
#: arguments of a function body as a traced graph holds them (`tf.summary.trace_export`); an
#: argument of dtype resource is a captured variable
ARG_OPS = frozenset({"_Arg", "_DeviceArg"})
#: inputs whose value is fed at run time (a non-resource argument of a traced function too)
FED_INPUTS = PLACEHOLDERS | ARG_OPS
#: ops that write a variable without using its value in the forward pass
ASSIGN_OPS = frozenset(
    {
        "Assign",
        "AssignAdd",
        "AssignSub",
        "AssignVariableOp",
        "AssignAddVariableOp",
        "AssignSubVariableOp",
    }
)
NOT_USES = ASSIGN_OPS | frozenset(
    {
        "VarIsInitializedOp",
        "IsVariableInitialized",
        "SaveV2",
        "RestoreV2",
        "Save",
        "SaveSlices",
        "NoOp",
        "DestroyResourceOp",
    }
)
#: fused optimizer kernels start with one of these
APPLY_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")


def is_apply(op: str) -> bool:
    """A fused optimizer update kernel (ApplyAdam, ResourceApplyGradientDescent ...)."""
    return op.startswith(APPLY_PREFIXES)


# ---------------------------------------------------------------------------- plumbing

#: ops that forward their first input unchanged for our purposes (reading a variable included)
PASS_THROUGH = frozenset(
    {
        "Identity",
        "IdentityN",
        "Cast",
        "ReadVariableOp",
        "Enter",
        "RefEnter",
        "StopGradient",
        "Snapshot",
        "Switch",
        "RefSwitch",
        "PreventGradient",
        "EnsureShape",
        "CheckNumerics",
    }
)
RESHAPES = frozenset({"Reshape", "Squeeze", "ExpandDims"})
#: loop back edges (ignored when ordering ops along the data path)
BACK_EDGE_OPS = frozenset({"NextIteration", "RefNextIteration"})
IF_OPS = frozenset({"If", "StatelessIf", "_If"})

# ---------------------------------------------------------------------------- randomness

UNIFORM_RANDOM = frozenset(
    {
        "RandomUniform",
        "StatelessRandomUniform",
        "StatelessRandomUniformV2",
        "StatelessRandomUniformFullInt",
        "RandomUniformInt",
    }
)
NORMAL_RANDOM = frozenset(
    {"RandomStandardNormal", "StatelessRandomNormal", "StatelessRandomNormalV2"}
)
TRUNCATED_RANDOM = frozenset(
    {"TruncatedNormal", "StatelessTruncatedNormal", "StatelessTruncatedNormalV2"}
)
#: random sources a dropout mask is drawn from
DROPOUT_RANDOM = UNIFORM_RANDOM | frozenset({"StatelessRandomBinomial"})
RANDOM_OPS = DROPOUT_RANDOM | NORMAL_RANDOM | TRUNCATED_RANDOM
#: ops that keep a tensor "random" (scaling / shifting random values, e.g. minval + u * range)
RANDOM_ARITHMETIC = frozenset({"Mul", "Add", "AddV2", "Sub", "RealDiv", "Div"})
#: the mask test of a dropout (random >= rate; TF <= 1.13: floor(keep_prob + random))
THRESHOLD_OPS = frozenset({"GreaterEqual", "Greater"})

# ------------------------------------------------------------------------------ gradients

_GRAD_SCOPE = re.compile(r"(?:^|/)(?:gradients(?:_\d+)?|gradient_tape|[^/]*_grad)(?:/|$)", re.I)
#: TF1: `gradients/<forward name>_grad/...`
GRAD_OF = re.compile(r"(?:^|/)gradients(?:_\d+)?/(.+?)_grad(?:/|$)")
#: TF2 tape: `<prefix>/gradient_tape/<forward name>/<grad op>`
TAPE_OF = re.compile(r"^(.*?)gradient_tape/(.+)/[^/]+$")


def is_gradient_node(name: str) -> bool:
    """True for nodes of a backward pass (``gradients/...``, ``gradient_tape/...`` or a
    ``..._grad`` scope)."""
    return bool(_GRAD_SCOPE.search(name))


# -------------------------------------------------------------------------------- layers

LINEAR_OPS = {
    "MatMul": "dense",
    "BatchMatMul": "dense",
    "BatchMatMulV2": "dense",
    "BatchMatMulV3": "dense",
    "Einsum": "dense",
    "Conv2D": "conv2d",
    "Conv1D": "conv1d",
    "Conv3D": "conv3d",
    "DepthwiseConv2dNative": "depthwise_conv2d",
    "Conv2DBackpropInput": "conv2d_transpose",
}
BIAS_OPS = frozenset({"BiasAdd", "Add", "AddV2"})
ACTIVATION_OPS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Elu": "elu",
    "Selu": "selu",
    "LeakyRelu": "leaky_relu",
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Gelu": "gelu",
}
EMBEDDING_OPS = frozenset({"GatherV2", "ResourceGather", "Gather"})
FUSED_BATCH_NORM = frozenset({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
#: the op that defines a layer's kind when it reads the layer's variable
KIND_BY_CONSUMER = {
    **LINEAR_OPS,
    **dict.fromkeys(EMBEDDING_OPS, "embedding"),
    **dict.fromkeys(FUSED_BATCH_NORM, "batch_norm"),
}

# --------------------------------------------------------------------------------- losses

#: fused cross-entropy kernels -> (loss kind, sparse labels)
XENT_OPS = {
    "SoftmaxCrossEntropyWithLogits": ("categorical_cross_entropy", False),
    "SparseSoftmaxCrossEntropyWithLogits": ("categorical_cross_entropy", True),
}
CLIP_OPS = frozenset({"ClipByValue", "Maximum", "Minimum"})
REDUCE_OPS = frozenset({"Mean", "Sum"})
DIVIDE_OPS = frozenset({"DivNoNan", "RealDiv", "Div"})

# ---------------------------------------------------------------------------- optimizers

_LR = "learning_rate"
#: fused kernel (without Resource/Sparse prefix) -> (optimizer type, {input index: hparam})
APPLY_KERNELS: dict[str, tuple[str, dict[int, str]]] = {
    "ApplyAdam": ("adam", {5: _LR, 6: "beta1", 7: "beta2", 8: "epsilon"}),
    "ApplyAdamWithAmsgrad": ("adam", {6: _LR, 7: "beta1", 8: "beta2", 9: "epsilon"}),
    "ApplyGradientDescent": ("sgd", {1: _LR}),
    "ApplyMomentum": ("sgd", {2: _LR, 4: "momentum"}),
    "ApplyKerasMomentum": ("sgd", {2: _LR, 4: "momentum"}),
    "ApplyRMSProp": ("rmsprop", {3: _LR, 4: "rho", 5: "momentum", 6: "epsilon"}),
    "ApplyCenteredRMSProp": ("rmsprop", {4: _LR, 5: "rho", 6: "momentum", 7: "epsilon"}),
    "ApplyAdagrad": ("adagrad", {2: _LR}),
    "ApplyAdagradV2": ("adagrad", {2: _LR, 3: "epsilon"}),
    "ApplyAdadelta": ("adadelta", {3: _LR, 4: "rho", 5: "epsilon"}),
    "ApplyFtrl": ("ftrl", {4: _LR, 5: "l1", 6: "l2", 7: "lr_power"}),
    "ApplyFtrlV2": ("ftrl", {4: _LR, 5: "l1", 6: "l2", 7: "l2_shrinkage", 8: "lr_power"}),
    "ApplyAdaMax": ("adamax", {4: _LR, 5: "beta1", 6: "beta2", 7: "epsilon"}),
    "ApplyProximalGradientDescent": ("proximal_sgd", {1: _LR, 2: "l1", 3: "l2"}),
    "ApplyProximalAdagrad": ("proximal_adagrad", {2: _LR, 3: "l1", 4: "l2"}),
}
#: sparse kernels insert `indices` after grad; only where that shifts hyper-parameter inputs
SPARSE_APPLY_KERNELS: dict[str, tuple[str, dict[int, str]]] = {
    "SparseApplyMomentum": ("sgd", {2: _LR, 5: "momentum"}),
    "SparseApplyKerasMomentum": ("sgd", {2: _LR, 5: "momentum"}),
    "SparseApplyFtrl": ("ftrl", {5: _LR, 6: "l1", 7: "l2", 8: "lr_power"}),
    "SparseApplyFtrlV2": ("ftrl", {5: _LR, 6: "l1", 7: "l2", 8: "l2_shrinkage", 9: "lr_power"}),
    "SparseApplyProximalGradientDescent": ("proximal_sgd", {1: _LR, 2: "l1", 3: "l2"}),
    "SparseApplyAdagradV2": ("adagrad", {2: _LR, 3: "epsilon"}),
}


def apply_kernel(op: str) -> tuple[str, dict[int, str]] | None:
    """(optimizer type, {input index: hparam}) of a fused update kernel, None for other ops."""
    base = op[len("Resource") :] if op.startswith("Resource") else op
    if base in SPARSE_APPLY_KERNELS:
        return SPARSE_APPLY_KERNELS[base]
    if base.startswith("Sparse"):
        base = base[len("Sparse") :]
    return APPLY_KERNELS.get(base)


# ------------------------------------------------------------------------------ penalties

#: op -> (penalty kind, factor that turns its value into coef * sum(w**2))
PENALTY_OPS = {"L2Loss": ("l2", 0.5), "Square": ("l2", 1.0), "Abs": ("l1", 1.0)}
