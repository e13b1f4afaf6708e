"""Names people and frameworks give to optimizers, losses and metrics, mapped to one vocabulary.

The same optimizer is `tf.compat.v1.train.AdamOptimizer` in a TF1 program, `Adam` in a Keras
config, `adam` in an hparams search, `torch.optim.Adam` in a PyTorch run and the scope `Adam` in
an op graph. Every front-end maps such names here, so descriptions compare by meaning.
"""

from __future__ import annotations

import re

#: lower-case class / string name -> optimizer type
OPTIMIZER_TYPES = {
    "adam": "adam",
    "adamoptimizer": "adam",
    "adamw": "adamw",
    "adamwoptimizer": "adamw",
    "sgd": "sgd",
    "gradientdescent": "sgd",
    "gradientdescentoptimizer": "sgd",
    "momentum": "sgd",  # tf.train.MomentumOptimizer = SGD with momentum (conventions.md)
    "momentumoptimizer": "sgd",
    "rmsprop": "rmsprop",
    "rmspropoptimizer": "rmsprop",
    "adagrad": "adagrad",
    "adagradoptimizer": "adagrad",
    "adadelta": "adadelta",
    "adadeltaoptimizer": "adadelta",
    "adamax": "adamax",
    "nadam": "nadam",
    "ftrl": "ftrl",
    "ftrloptimizer": "ftrl",
    "lion": "lion",
    "adafactor": "adafactor",
    "lamb": "lamb",
    "radam": "radam",
}
#: scope names an optimizer's ops live under (Keras: `Adam/...`, `training/SGD/...`)
OPTIMIZER_SCOPES = frozenset(k for k in OPTIMIZER_TYPES if not k.endswith("optimizer"))


def optimizer_type(name: object) -> str | None:
    """`tf.compat.v1.train.AdamOptimizer`, `keras.optimizers.Adam`, `RMSprop`, `adam` -> type."""
    if not isinstance(name, str) or not name.strip():
        return None
    last = re.split(r"[./:]", name.strip())[-1]
    key = re.sub(r"[^a-z0-9]", "", last.lower())
    key = re.sub(r"^legacy", "", key)
    return OPTIMIZER_TYPES.get(key)


#: Keras / config hyper-parameter names -> description names
OPTIMIZER_HPARAMS = {
    "learning_rate": "learning_rate",
    "lr": "learning_rate",
    "beta_1": "beta1",
    "beta1": "beta1",
    "beta_2": "beta2",
    "beta2": "beta2",
    "momentum": "momentum",
    "rho": "rho",
    "decay": "decay",
    "epsilon": "epsilon",
    "weight_decay": "weight_decay",
    "nesterov": "nesterov",
    "amsgrad": "amsgrad",
    "centered": "centered",
    "initial_accumulator_value": "initial_accumulator_value",
    "learning_rate_power": "lr_power",
    "l1_regularization_strength": "l1",
    "l2_regularization_strength": "l2",
}

#: Keras loss names (function or class, lower case without underscores) -> (kind, from_logits
#: default, sparse); `kind` matches what the graph front-end reads from ops
LOSS_KINDS = {
    "categoricalcrossentropy": ("categorical_cross_entropy", False, False),
    "sparsecategoricalcrossentropy": ("categorical_cross_entropy", False, True),
    "binarycrossentropy": ("binary_cross_entropy", False, False),
    "binaryfocalcrossentropy": ("binary_focal_cross_entropy", False, False),
    "meansquarederror": ("mean_squared_error", None, None),
    "mse": ("mean_squared_error", None, None),
    "meanabsoluteerror": ("mean_absolute_error", None, None),
    "mae": ("mean_absolute_error", None, None),
    "huber": ("huber", None, None),
    "hinge": ("hinge", None, None),
    "kldivergence": ("kl_divergence", None, None),
    "poisson": ("poisson", None, None),
    # PyTorch loss classes (torch.nn.*Loss): CrossEntropyLoss takes logits (log-softmax
    # inside) and class indices; BCEWithLogitsLoss logits, BCELoss probabilities
    "crossentropyloss": ("categorical_cross_entropy", True, True),
    "bcewithlogitsloss": ("binary_cross_entropy", True, False),
    "bceloss": ("binary_cross_entropy", False, False),
    "mseloss": ("mean_squared_error", None, None),
    "l1loss": ("mean_absolute_error", None, None),
    "huberloss": ("huber", None, None),
    "kldivloss": ("kl_divergence", None, None),
}

#: what a loss kind (the first value of LOSS_KINDS, or what the graph front-end reads) trains a
#: model for; kinds that serve both (kl_divergence: distillation, VAEs ...) are left out
LOSS_TASKS = {
    "categorical_cross_entropy": "classification",
    "binary_cross_entropy": "classification",
    "binary_focal_cross_entropy": "classification",
    "hinge": "classification",
    "mean_squared_error": "regression",
    "mean_absolute_error": "regression",
    "huber": "regression",
    "poisson": "regression",
}
#: metrics (`Metric.computes` or name, lower case) that only a regression model reports
REGRESSION_METRICS = frozenset(
    {"mse", "mae", "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "rmse"}
)


def loss_kind(name: object) -> tuple[str, bool | None, bool | None] | None:
    if not isinstance(name, str):
        return None
    key = re.sub(r"[^a-z0-9]", "", name.split(">")[-1].split(".")[-1].lower())
    return LOSS_KINDS.get(key)


#: metric names whose meaning depends on the loss (Keras resolves them at compile time)
ACCURACY_ALIASES = frozenset({"accuracy", "acc"})
#: Keras metric class / function names -> what they compute
METRIC_COMPUTES = {
    "accuracy": "exact_match",  # the *class* metrics.Accuracy(): labels == predictions
    "binaryaccuracy": "binary_accuracy",
    "categoricalaccuracy": "categorical_accuracy",
    "sparsecategoricalaccuracy": "sparse_categorical_accuracy",
    "topkcategoricalaccuracy": "top_k_categorical_accuracy",
    "sparsetopkcategoricalaccuracy": "sparse_top_k_categorical_accuracy",
}
