"""Write the PyTorch / Keras-3-port fixtures of tests/test_pairs_torch.py (tests/fixtures/torch).

Two halves, each run by the interpreter that has its framework:

    .venv-torch/bin/python scripts/gen_torch_fixtures.py torch OUTDIR [RUN ...]   # torch, lightning
    .venv/bin/python       scripts/gen_torch_fixtures.py keras OUTDIR [RUN ...]   # keras 3 (TF backend)

(`pip install -e '.[torch-fixtures]'` gives the first: CPU torch, lightning, tensorboard.)
Every run is a log directory OUTDIR/<run> written by the real writers:
- torch runs (`t_*`, `p_*`, `tx_*` with tensorboardX's writer): a small MLP trained for a few full-batch steps on random 3-class
  data; `SummaryWriter.add_graph` (a JIT trace of the model, traced by add_graph in eval mode),
  per-step `train/loss` and `train/accuracy` scalars, and `add_hparams` with the optimizer, its
  settings and the loss class (add_hparams writes them into a sub-directory named by the time);
- Lightning runs (`l_*`): the same MLP as a LightningModule trained by `lightning.Trainer` with
  `TensorBoardLogger(log_graph=True)` (graph, hparams in the event file and hparams.yaml);
- Keras runs (`k_*`): the Keras 3 models the `p_*` runs port, fit() briefly with
  `keras.callbacks.TensorBoard` (model config with compile_config, epoch scalars).
Nothing here is imported by tbdiff or its tests; the tests read the committed event files.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

N_IN, N_CLASSES, N, STEPS = 8, 3, 64, 10


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, N_IN)).astype("float32")
    y = (x @ rng.normal(size=(N_IN, N_CLASSES))).argmax(1)
    return x, y


# ------------------------------------------------------------------------------------------
# PyTorch
# ------------------------------------------------------------------------------------------


def torch_model(
    *,
    units: int = 16,
    n_hidden: int = 1,
    act: str = "relu",
    act_fn: bool = False,
    p: float | None = 0.2,
    drop: str = "module",
    bn: dict | None = None,
    names: tuple[str, str, str, str, str] = ("fc0", "act", "bn", "drop", "fc1"),
    softmax_out: bool = False,
    sequential: bool = False,
):
    """8 -> [Linear(units) -> act -> BatchNorm1d?] x n_hidden -> dropout -> Linear(3) [-> softmax].

    act_fn: the activation as a function (F.relu / torch.tanh) instead of a module; drop:
    "module" (nn.Dropout), "functional" (F.dropout(training=self.training)), "always"
    (F.dropout(x, p): training=True by default, so it stays on after model.eval())."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)
    fc, act_name, bn_name, drop_name, out_name = names
    acts = {"relu": (nn.ReLU, F.relu), "tanh": (nn.Tanh, torch.tanh)}

    if sequential:
        mods: list = []
        width = N_IN
        for _ in range(n_hidden):
            mods += [nn.Linear(width, units), acts[act][0]()]
            mods += [nn.BatchNorm1d(units, **bn)] if bn is not None else []
            width = units
        mods += [nn.Dropout(p), nn.Linear(units, N_CLASSES)]
        return nn.Sequential(*mods)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            width = N_IN
            self.layer_names = []
            for i in range(n_hidden):
                suffix = "" if i == 0 else f"_{i}"
                setattr(self, fc + suffix, nn.Linear(width, units))
                self.layer_names.append(fc + suffix)
                width = units
            if not act_fn:
                setattr(self, act_name, acts[act][0]())
            if bn is not None:
                setattr(self, bn_name, nn.BatchNorm1d(units, **bn))
            if p is not None and drop == "module":
                setattr(self, drop_name, nn.Dropout(p))
            setattr(self, out_name, nn.Linear(units, N_CLASSES))

        def forward(self, x):
            h = x
            for name in self.layer_names:
                h = getattr(self, name)(h)
                h = acts[act][1](h) if act_fn else getattr(self, act_name)(h)
                if bn is not None:
                    h = getattr(self, bn_name)(h)
            if p is not None and drop == "module":
                h = getattr(self, drop_name)(h)
            elif p is not None and drop == "functional":
                h = F.dropout(h, p, training=self.training)
            elif p is not None and drop == "always":
                h = F.dropout(h, p)  # training=True by default: also on after model.eval()
            out = getattr(self, out_name)(h)
            return torch.softmax(out, dim=-1) if softmax_out else out

    return Net()


def torch_run(out: Path, model, hp: dict, *, tensorboardx: bool = False) -> dict:
    """Train `model` a few full-batch steps with the optimizer `hp` names, log graph, scalars
    and hparams with torch.utils.tensorboard's SummaryWriter (or tensorboardX's)."""
    import torch

    if tensorboardx:
        from tensorboardX import SummaryWriter
    else:
        from torch.utils.tensorboard import SummaryWriter

    x_np, y_np = _data()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    opt_kw = {k: v for k, v in hp.items() if k not in ("optimizer", "lr", "loss")}
    if "beta1" in opt_kw:
        opt_kw["betas"] = (opt_kw.pop("beta1"), opt_kw.pop("beta2", 0.999))
    opt = getattr(torch.optim, hp["optimizer"])(model.parameters(), lr=hp["lr"], **opt_kw)
    loss_fn = getattr(torch.nn, hp["loss"])()
    writer = SummaryWriter(str(out))
    writer.add_graph(model, x[:4])
    model.train()
    for step in range(STEPS):
        opt.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        writer.add_scalar("train/loss", float(loss), step)
        writer.add_scalar("train/accuracy", float((logits.argmax(1) == y).float().mean()), step)
    writer.add_hparams(hp, {"hparam/final_loss": float(loss)})
    writer.close()
    return {"loss": float(loss)}


def lightning_run(out: Path, lr: float) -> dict:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger

    class Module(L.LightningModule):
        def __init__(self, lr: float, optimizer: str = "Adam") -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch_model()
            self.example_input_array = torch.zeros(4, N_IN)

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    x_np, y_np = _data()
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x_np), torch.from_numpy(y_np))
    loader = torch.utils.data.DataLoader(ds, batch_size=16)
    logger = TensorBoardLogger(str(out.parent), name=out.name, version="", log_graph=True)
    trainer = L.Trainer(
        max_epochs=2,
        logger=logger,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(Module(lr), loader)
    return {"loss": float(trainer.callback_metrics["train_loss"])}


ADAM = {"optimizer": "Adam", "lr": 0.001, "loss": "CrossEntropyLoss"}
BN_PORT = {"momentum": 0.01, "eps": 1e-3}  # Keras BatchNormalization() in PyTorch's terms


def torch_runs() -> dict:
    m = torch_model
    port = {"p": 0.3, "bn": BN_PORT}
    adam_k = {**ADAM, "eps": 1e-7}  # Keras' Adam epsilon, written out
    return {
        # single-framework pairs
        "t_base": lambda o: torch_run(o, m(), ADAM),
        "t_drop05": lambda o: torch_run(o, m(p=0.5), ADAM),
        "t_fdrop": lambda o: torch_run(o, m(drop="functional"), ADAM),
        "t_fdrop_always": lambda o: torch_run(o, m(drop="always"), ADAM),
        "t_nodrop": lambda o: torch_run(o, m(p=None), ADAM),
        "t_tanh": lambda o: torch_run(o, m(act="tanh"), ADAM),
        "t_relu_fn": lambda o: torch_run(o, m(act_fn=True), ADAM),
        "t_wide": lambda o: torch_run(o, m(units=32), ADAM),
        "t_deeper": lambda o: torch_run(o, m(n_hidden=2), ADAM),
        "t_bn": lambda o: torch_run(o, m(bn={}), ADAM),
        "t_bn_m001": lambda o: torch_run(o, m(bn={"momentum": 0.01}), ADAM),
        "t_bn_eps1e3": lambda o: torch_run(o, m(bn={"eps": 1e-3}), ADAM),
        "t_sgd": lambda o: torch_run(o, m(), {**ADAM, "optimizer": "SGD"}),
        "t_lr01": lambda o: torch_run(o, m(), {**ADAM, "lr": 0.1}),
        "t_softmax_out": lambda o: torch_run(o, m(softmax_out=True), ADAM),
        "t_renamed": lambda o: torch_run(
            o, m(names=("hidden", "relu", "norm", "dp", "logits")), ADAM
        ),
        "t_seq": lambda o: torch_run(o, m(sequential=True), ADAM),
        "tx_base": lambda o: torch_run(o, m(), ADAM, tensorboardx=True),
        "l_base": lambda o: lightning_run(o, 0.001),
        "l_lr01": lambda o: lightning_run(o, 0.1),
        # ports of the Keras 3 models k_* (Linear -> ReLU -> BatchNorm1d -> Dropout -> Linear)
        "p_equiv": lambda o: torch_run(o, m(**port), adam_k),
        "p_m09": lambda o: torch_run(o, m(p=0.3, bn={"momentum": 0.9, "eps": 1e-3}), adam_k),
        "p_bn_defaults": lambda o: torch_run(o, m(p=0.3, bn={}), adam_k),
        "p_bn_eps": lambda o: torch_run(o, m(p=0.3, bn={"momentum": 0.01}), adam_k),
        "p_adam_eps": lambda o: torch_run(o, m(**port), ADAM),
        "p_keep07": lambda o: torch_run(o, m(p=0.7, bn=BN_PORT), adam_k),
        "p_softmax": lambda o: torch_run(o, m(**port, softmax_out=True), adam_k),
        "p_adam_wd": lambda o: torch_run(o, m(**port), {**adam_k, "weight_decay": 0.01}),
        "p_adamw": lambda o: torch_run(
            o, m(**port), {**adam_k, "optimizer": "AdamW", "weight_decay": 0.01}
        ),
    }


# ------------------------------------------------------------------------------------------
# Keras 3
# ------------------------------------------------------------------------------------------


def keras_run(out: Path, *, momentum: float = 0.99, weight_decay: float | None = None) -> dict:
    """Dense(16, relu) -> BatchNormalization(momentum) -> Dropout(0.3) -> Dense(3, softmax),
    Adam(1e-3[, weight_decay]), categorical cross-entropy, fit() with the TensorBoard callback."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    x, y = _data()
    model = keras.Sequential(
        [
            keras.Input((N_IN,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(momentum=momentum),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ]
    )
    opt = keras.optimizers.Adam(learning_rate=1e-3, weight_decay=weight_decay)
    model.compile(opt, "categorical_crossentropy", metrics=["accuracy"], run_eagerly=True)
    hist = model.fit(
        x,
        np.eye(N_CLASSES, dtype="float32")[y],
        batch_size=16,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(out), histogram_freq=0)],
    )
    return {k: float(v[-1]) for k, v in hist.history.items()}


def keras_runs() -> dict:
    return {
        "k_port": lambda o: keras_run(o),
        "k_port_m09": lambda o: keras_run(o, momentum=0.9),
        "k_port_wd": lambda o: keras_run(o, weight_decay=0.01),
    }


def main(argv: list[str]) -> None:
    part, outdir, only = argv[0], Path(argv[1]), argv[2:]
    if part == "keras":
        if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
            raise SystemExit("the Keras half writes Keras 3 logs: unset TF_USE_LEGACY_KERAS")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        runs = keras_runs()
    elif part == "torch":
        warnings.filterwarnings("ignore")
        runs = torch_runs()
    else:
        raise SystemExit("usage: gen_torch_fixtures.py torch|keras OUTDIR [RUN ...]")
    outdir.mkdir(parents=True, exist_ok=True)
    for name, write in runs.items():
        if only and name not in only:
            continue
        print(name, write(outdir / name), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
