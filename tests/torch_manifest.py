"""The PyTorch and Keras-3-to-PyTorch port pairs of issue 11: which committed runs, what differs,
what tbdiff must say first. Pure data; the runs are the event files under tests/fixtures/torch
(written by scripts/gen_torch_fixtures.py with the real writers, see its README), so the tests
need neither torch nor TensorFlow.

Expectations use tests/pairs_manifest.py's `Pair` / `Inspect` / `Fact` and are checked by
tests/pairs_cli.py (see pairs_manifest's docstring): `first`/`severity` the first finding,
`notes` findings that must appear exactly once, `absent` ids that must not appear, `source`
where the first finding's facts come from when it is not the graph, exit code from severity.

Severities chosen where the issue leaves them open: a dense-init difference that only follows
from the frameworks' defaults (PyTorch's nn.Linear vs Keras' glorot_uniform/zeros, which the
logs cannot show being overridden) is a warning: it may change training, and the logs cannot
tell whether the program re-initialised. So it precedes Adam epsilon 1e-7 vs 1e-8, which is
benign (numerically negligible) and named, not first. Coupled vs decoupled weight decay is
critical like any weight-decay difference; BatchNorm epsilon 1e-3 vs 1e-5 keeps issue 10's
rule (critical at a ratio of 10 or more).
"""

from __future__ import annotations

from pairs_manifest import CRIT, WARN, Fact, Inspect, Pair

_W_T = "torch SummaryWriter: add_graph (JIT trace) + scalars + add_hparams (optimizer, lr, loss)"
_W_L = "lightning Trainer + TensorBoardLogger(log_graph=True), save_hyperparameters"
_W_PORT = "Keras 3 fit() + keras.callbacks.TensorBoard  vs  its PyTorch port (" + _W_T + ")"
HP = {"source": "hparams"}
NOTHING = ("dropout.rate_mismatch", "dropout.count_mismatch", "learning_phase.mechanism")
EQUIV_PORT = (
    ("dropout.equivalent", "info", "nn.Dropout"),
    ("normalization.mismatch", "info", "PyTorch momentum=0.01"),
)
DEFAULT_INIT = (("init.mismatch", "warning", "framework defaults"),)


def P(name, framework, writer, a, b, differs, first=None, severity=(), **kw) -> Pair:
    return Pair(name, "torch", framework, writer, a, b, differs, first, severity, **kw)


# fmt: off
TORCH_PAIRS = [
    # --- dropout ---------------------------------------------------------------------------
    P("torch_dropout_rate", "torch", _W_T, "t_base", "t_drop05", "nn.Dropout(0.2) vs nn.Dropout(0.5)",
      "dropout.rate_mismatch", CRIT),
    P("torch_dropout_count", "torch", _W_T, "t_base", "t_nodrop", "nn.Dropout(0.2) in A only",
      "dropout.count_mismatch", CRIT),
    P("torch_dropout_functional", "torch", _W_T, "t_base", "t_fdrop",
      "nn.Dropout(0.2) vs F.dropout(x, 0.2, training=self.training): same effect",
      absent=NOTHING),
    P("torch_dropout_always_on", "torch", _W_T, "t_base", "t_fdrop_always",
      "nn.Dropout(0.2) vs F.dropout(x, 0.2) (training=True by default: on after model.eval())",
      "learning_phase.mechanism", WARN,
      notes=(("learning_phase.mechanism", "warning", "training=self.training"),)),
    # --- activation, layers, normalisation ---------------------------------------------------
    P("torch_activation", "torch", _W_T, "t_base", "t_tanh", "nn.ReLU vs nn.Tanh",
      "activation.mismatch", CRIT),
    P("torch_activation_functional", "torch", _W_T, "t_base", "t_relu_fn",
      "nn.ReLU module vs F.relu in forward: same model", absent=("activation.mismatch",)),
    P("torch_layer_units", "torch", _W_T, "t_base", "t_wide", "Linear(8, 16) vs Linear(8, 32)",
      "layer.shape_mismatch", CRIT, absent=("init.mismatch",)),
    P("torch_layer_count", "torch", _W_T, "t_base", "t_deeper", "one vs two hidden Linear(16)",
      "layer.count_mismatch", CRIT),
    P("torch_bn_momentum", "torch", _W_T, "t_bn", "t_bn_m001",
      "BatchNorm1d momentum 0.1 (default) vs 0.01", "normalization.mismatch", CRIT),
    P("torch_bn_epsilon", "torch", _W_T, "t_bn", "t_bn_eps1e3", "BatchNorm1d eps 1e-5 vs 1e-3",
      "normalization.mismatch", CRIT),
    P("torch_bn_one_side", "torch", _W_T, "t_bn", "t_base", "BatchNorm1d in A only",
      "normalization.mismatch", CRIT, absent=("layer.count_mismatch",)),
    P("torch_double_softmax", "torch", _W_T, "t_base", "t_softmax_out",
      "linear output vs torch.softmax output, both trained with nn.CrossEntropyLoss",
      "loss.mismatch", CRIT, **HP),
    # --- optimizer (hparams) ---------------------------------------------------------------
    P("torch_opt_type", "torch", _W_T, "t_base", "t_sgd", "add_hparams optimizer Adam vs SGD",
      "optimizer.type_mismatch", CRIT, **HP),
    P("torch_opt_lr", "torch", _W_T, "t_base", "t_lr01", "add_hparams lr 0.001 vs 0.1",
      "optimizer.hparam_mismatch", CRIT, **HP),
    P("lightning_opt_lr", "lightning", _W_L, "l_base", "l_lr01",
      "LightningModule(lr=0.001) vs lr=0.1 (save_hyperparameters)",
      "optimizer.hparam_mismatch", CRIT, **HP),
    # --- names only ------------------------------------------------------------------------
    P("torch_renamed", "torch", _W_T, "t_base", "t_renamed",
      "same model, module attributes fc0/act/drop/fc1 renamed hidden/relu/dp/logits",
      notes=(("naming.only", "info", ""),)),
    P("torch_sequential", "torch", _W_T, "t_base", "t_seq",
      "the same layers as an nn.Module with named attributes and as nn.Sequential",
      notes=(("naming.only", "info", ""),)),
    P("torch_vs_tensorboardx", "torch", _W_T + " / tensorboardX SummaryWriter (same calls)",
      "t_base", "tx_base", "the same model and hparams written by torch's and tensorboardX's "
      "SummaryWriter", absent=("optimizer.missing",)),
    P("torch_vs_lightning", "lightning", _W_T + " / " + _W_L, "t_base", "l_base",
      "the same model and Adam(0.001) written by SummaryWriter and by Lightning",
      notes=(("naming.only", "info", ""),)),
]

PORT_PAIRS = [
    P("port_equivalent", "port", _W_PORT, "k_port", "p_equiv",
      "Dense(16, relu) -> BatchNormalization() -> Dropout(0.3) -> Dense(3, softmax), Adam, "
      "categorical cross-entropy vs Linear -> ReLU -> BatchNorm1d(momentum=0.01, eps=1e-3) -> "
      "nn.Dropout(0.3) -> Linear, Adam(eps=1e-7), CrossEntropyLoss: written differently, same "
      "model; only the frameworks' default initialisers differ",
      "init.mismatch", WARN,
      notes=(*EQUIV_PORT, *DEFAULT_INIT, ("activation.mismatch", "info", "same function"),
             ("loss.mismatch", "info", "same function")),
      absent=("layer.count_mismatch", "layer.shape_mismatch", "optimizer.hparam_mismatch",
              *NOTHING)),
    P("port_bn_momentum_trap", "port", _W_PORT, "k_port_m09", "p_m09",
      "Keras BatchNormalization(momentum=0.9) vs BatchNorm1d(momentum=0.9): the same number, "
      "opposite meanings", "normalization.mismatch", CRIT,
      notes=(("normalization.mismatch", "critical", "The same number means different things"),)),
    P("port_bn_defaults", "port", _W_PORT, "k_port", "p_bn_defaults",
      "Keras BatchNormalization() defaults (0.99, 1e-3) vs BatchNorm1d() defaults (0.1, 1e-5)",
      "normalization.mismatch", CRIT),
    P("port_bn_epsilon", "port", _W_PORT, "k_port", "p_bn_eps",
      "BatchNormalization epsilon 1e-3 (Keras default) vs BatchNorm1d eps 1e-5 (PyTorch "
      "default), momentum ported right", "normalization.mismatch", CRIT,
      notes=(("normalization.mismatch", "info", "same effect"),)),
    P("port_adam_epsilon", "port", _W_PORT, "k_port", "p_adam_eps",
      "Keras Adam epsilon 1e-7 vs torch.optim.Adam's default 1e-8 (not in the hparams): "
      "named, benign (numerically negligible), after the default-init warning",
      "init.mismatch", WARN,
      notes=(*EQUIV_PORT, ("optimizer.hparam_mismatch", "benign", "PyTorch"))),
    P("port_dropout_keep_prob", "port", _W_PORT, "k_port", "p_keep07",
      "Dropout(0.3) ported as nn.Dropout(0.7) (the keep probability passed as p)",
      "dropout.rate_mismatch", CRIT),
    P("port_double_softmax", "port", _W_PORT, "k_port", "p_softmax",
      "Keras softmax output + categorical cross-entropy vs the port keeping torch.softmax "
      "before nn.CrossEntropyLoss", "loss.mismatch", CRIT,
      notes=(("loss.mismatch", "critical", "softmax twice"),)),
    P("port_weight_decay", "port", _W_PORT, "k_port_wd", "p_adam_wd",
      "Keras Adam(weight_decay=0.01) (decoupled) vs torch.optim.Adam(weight_decay=0.01) (L2 "
      "added to the gradient)", "optimizer.hparam_mismatch", CRIT,
      notes=(("optimizer.hparam_mismatch", "critical", "AdamW"),)),
    P("port_adamw", "port", _W_PORT, "k_port_wd", "p_adamw",
      "Keras Adam(weight_decay=0.01) vs torch.optim.AdamW(weight_decay=0.01): the same update",
      "init.mismatch", WARN, notes=EQUIV_PORT,
      absent=("optimizer.type_mismatch", "optimizer.hparam_mismatch")),
]
# fmt: on

PAIRS: list[Pair] = [*TORCH_PAIRS, *PORT_PAIRS]

G, HPS, DEF = ("graph",), ("hparams",), ("default of torch.optim.adam",)
F = Fact

# fmt: off
INSPECT = [
    Inspect("torch", "t_bn",
            "add_graph: Linear(8, 16) -> ReLU -> BatchNorm1d() -> Dropout(0.2) -> Linear(16, 3); "
            "add_hparams optimizer=Adam, lr=0.001, loss=CrossEntropyLoss", {
                "layers": F(("fc0", "dense", 8, 16, "relu", "fc1", 3), G),
                "dropout": F(("20%", "p=0.2"), G),
                "normalization": F(("batch", 0.9, 1e-5), G),
                "optimizer": F(("adam", 0.001), HPS),
                "loss": F(("softmax", "logits"), HPS),
                "init": F(("uniform", 0.3536), ("default of nn.linear",)),
                "learning phase": F(("model.train()",), ()),
            }),
    Inspect("torch", "t_bn", "the same run: the settings add_hparams left out are torch's",
            {"optimizer": F((1e-8, 0.999), DEF)}),
    Inspect("torch", "t_fdrop_always", "F.dropout(x, 0.2) keeps training=True: on at evaluation",
            {"dropout": F(("F.dropout", "20%", "evaluation"), G)}),
    Inspect("torch", "l_base", "Lightning: the same model; lr from save_hyperparameters", {
                "layers": F(("net.fc0", 16), G),
                "optimizer": F((0.001,), HPS),
            }),
]
# fmt: on
