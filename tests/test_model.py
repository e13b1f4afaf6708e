"""The model-semantics layer (tbdiff.model): op vocabulary, front-ends and their merge, on logs
written by the real writers (sample_logs, the TensorBoard/TF fixture logs, real third-party
logs). The pairs of every concept are the acceptance tests; these check the layer's own parts."""

from __future__ import annotations

from pathlib import Path

import gen_event_fixtures
import pytest
from helpers import REALLOGS, SAMPLE_LOGS

from tbdiff import events
from tbdiff.findings import inspect_lines
from tbdiff.graph import graph_from_path, load_graph
from tbdiff.model import RunInputs, describe, find_layers
from tbdiff.model import names as N
from tbdiff.model import ops as O
from tbdiff.pipeline import run_inputs


def _run(path: Path) -> events.RunData:
    (run,) = events.read_logdir(path)
    return run


def _describe_run(path: Path, feeds: dict[str, float] | None = None):
    run = _run(path)
    source = run.best_graph()
    g = load_graph(source) if source is not None else None
    return describe(run_inputs([run], g, dict(run.hparams), feeds or {})), g


def _real(rel: str) -> Path:
    p = REALLOGS / rel
    if not p.exists():
        pytest.skip(f"real logs not available: {p}")
    return p


# ------------------------------------------------------------------------------ vocabulary


@pytest.mark.parametrize(
    ("name", "grad"),
    [
        ("gradients/VisibleLayer/MatMul_grad/MatMul", True),
        ("training/Adam/gradients_1/dense/BiasAdd_grad/BiasAddGrad", True),
        ("StatefulPartitionedCall/call/gradient_tape/dense/MatMul/MatMul", True),
        ("dense/MatMul", False),
        ("Optimizer/Trainer/update_VisibleLayer/weights/ApplyAdam", False),
    ],
)
def test_one_gradient_rule(name: str, grad: bool) -> None:
    assert O.is_gradient_node(name) is grad


@pytest.mark.parametrize(
    ("written", "typ"),
    [
        ("tf.compat.v1.train.AdamOptimizer", "adam"),
        ("keras.optimizers.Adam", "adam"),
        ("RMSprop", "rmsprop"),
        ("rmsprop", "rmsprop"),
        ("tf.compat.v1.train.MomentumOptimizer", "sgd"),
        ("SGD", "sgd"),
        ("torch.optim.AdamW", "adamw"),
        ("not an optimizer", None),
    ],
)
def test_optimizer_names_map_to_one_vocabulary(written: str, typ: str | None) -> None:
    assert N.optimizer_type(written) == typ


def test_fused_kernels_name_their_hyper_parameter_inputs() -> None:
    assert O.apply_kernel("ResourceApplyAdam") == O.APPLY_KERNELS["ApplyAdam"]
    assert O.apply_kernel("ResourceApplyKerasMomentum")[0] == "sgd"  # momentum SGD is SGD
    assert O.apply_kernel("ResourceSparseApplyMomentum")[1][5] == "momentum"
    assert O.apply_kernel("MatMul") is None


# ------------------------------------------------------------------------------ front-ends


def test_seed_run_description_names_the_source_of_each_fact() -> None:
    d, _ = _describe_run(SAMPLE_LOGS / "tensorflow")
    assert [s.drop_rate for s in d.dropout] == [pytest.approx(0.3)] * 4
    fed = d.dropout[0].fed["PlaceholderWithDefault"]
    assert (fed.value, fed.source.origin, fed.source.where) == (
        pytest.approx(0.7),
        "hparams",
        "feed/PlaceholderWithDefault",
    )
    assert d.optimizer.type == "adam" and d.optimizer.sources["learning_rate"].origin == "graph"
    assert d.training.values == {"batch_size": 100, "epochs": 30}
    assert {s.origin for s in d.training.sources.values()} == {"hparams"}
    assert d.origins == ["tf_graph", "hparams", "scalars"]  # scalars: how far training went
    # --feed wins over the recorded hparam, and says so
    fed_by_user, _ = _describe_run(SAMPLE_LOGS / "tensorflow", {"PlaceholderWithDefault": 0.5})
    assert fed_by_user.dropout[0].drop_rate == pytest.approx(0.5)
    assert fed_by_user.dropout[0].fed["PlaceholderWithDefault"].source.origin == "feed"


def test_alignment_and_detectors_share_one_layer_model() -> None:
    d, g = _describe_run(SAMPLE_LOGS / "keras")
    found = find_layers(g)
    assert [x.name for x in found] == [x.name for x in d.layers]
    assert [x.kind for x in found] == ["dense", "dropout"] * 4 + ["dense"]
    assert [x.index for x in d.weight_layers] == [0, 1, 2, 3, 4]
    dropout_layers = [x.name for x in found if x.kind == "dropout"]
    assert dropout_layers == [s.layer for s in d.dropout]


def test_hparams_front_end_on_hparams_plugin_logs(tmp_path_factory) -> None:
    fx = gen_event_fixtures.generated(tmp_path_factory)
    d, g = _describe_run(fx / "hparams")
    assert g is None
    assert d.optimizer.type == "adam" and d.optimizer.source.where == "optimizer"
    (site,) = d.dropout
    assert site.drop_rate == pytest.approx(0.3) and site.source.where == "dropout_rate"
    assert not site.layer_known  # a rate, not a layer: never counted
    lines = inspect_lines(d)
    assert lines["optimizer"] == "adam [hparams optimizer]"
    assert "[hparams dropout_rate]" in lines["dropout"]


def test_keras3_callback_log_merges_graph_and_config() -> None:
    """Keras 3 TensorBoard callback (ldebris/Rossman): a train-step graph and the model config
    with compile_config; the graph names the optimizer, the config its learning rate."""
    d, g = _describe_run(_real("ldebris__Rossman/logs/train"))
    assert g is not None and d.has_ops and d.origins == ["tf_graph", "keras_config", "scalars"]
    o = d.optimizer
    assert o.type == "adam" and o.source.origin == "graph"
    assert o.hparams["learning_rate"] == pytest.approx(0.001)
    assert o.sources["learning_rate"].origin == "keras_config"
    assert d.loss.kind == "mean_squared_error"
    assert [(m.written_as, m.source.origin) for m in d.metrics] == [('"mse"', "keras_config")]
    assert all(x.kernel_init.source.origin == "keras_config" for x in d.weight_layers)
    assert "[Keras config]" in inspect_lines(d)["init"]


def test_keras3_config_alone_describes_layers_and_compile() -> None:
    run = _run(_real("ldebris__Rossman/logs/train"))
    config = next(s for s in reversed(run.graphs) if s.kind == "keras_model").keras_config()
    d = describe(RunInputs(keras_config=config))
    assert d.config_only and not d.has_ops
    assert [x.units for x in d.weight_layers][-1] == 1
    assert d.optimizer.source.origin == "keras_config" and d.loss.reduction
    assert all(x.source.origin == "keras_config" for x in d.layers)


def test_batch_norm_read_from_a_real_tf1_keras_graph() -> None:
    g, _ = graph_from_path(_real("VictorNM__triplet-cnn-cbir/logs/2019-05-19 20_43_01"))
    d = describe(RunInputs(g))
    assert [(n.kind, n.momentum, n.epsilon) for n in d.normalization] == [
        ("batch_norm", pytest.approx(0.99), pytest.approx(1e-3))
    ] * 2
    assert all(n.source.origin == "graph" and n.nodes for n in d.normalization)
    assert d.optimizer.type == "sgd" and d.optimizer.hparams["momentum"] == pytest.approx(0.9)


def test_lightning_hparams_name_the_learning_rate_and_batch_size() -> None:
    """A real PyTorch Lightning run: no graph, the optimizer's settings only in its hparams."""
    d, g = _describe_run(_real("FKnorring__restaurant-name-prediction/lightning_logs/version_1"))
    assert g is None and d.origins == ["hparams"]
    o = d.optimizer
    assert o.type is None and o.hparams["learning_rate"] == pytest.approx(0.0317688, rel=1e-4)
    assert o.sources["learning_rate"].where == "learning_rate"
    assert d.training.values["batch_size"] == 16
    assert inspect_lines(d)["optimizer"].startswith("type not recorded (learning_rate=0.03177")
