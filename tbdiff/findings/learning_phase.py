"""Learning phase: how each run switches dropout off for evaluation.

Keras feeds a boolean ``keras_learning_phase`` placeholder (default False) into every
Dropout's cond; a hand-written TF program usually makes its own switch, e.g.
``keep_prob = placeholder_with_default(1.0)`` fed 0.7 only in the training ``sess.run``.
In TensorBoard the two look completely different (Keras' placeholder fans out to every
dropout layer), yet they do the same thing. What does matter is a graph with *no* switch:
its dropout stays on when the test accuracy is computed. The front-ends describe each dropout
site's `Switch`; this module groups and compares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import DropoutSite, ModelDescription, Switch

NAME = "learning_phase"
LABEL = "learning phase"


@dataclass
class _Phase:
    """How one run switches its dropout layers (what the comparison needs)."""

    mechanism: str
    switches: list[tuple[Switch, list[str]]] = field(default_factory=list)
    always_on: list[str] = field(default_factory=list)
    always_on_nodes: list[str] = field(default_factory=list)
    training_true: list[str] = field(default_factory=list)  # PyTorch F.dropout(training=True)


def _phase(sites: list[DropoutSite]) -> _Phase | None:
    """None when the sites' switching is unknown (a rate recorded only as an hparam)."""
    if any(s.switch.kind == "unknown" for s in sites):
        return None
    found: dict[tuple, tuple[Switch, list[str]]] = {}
    p = _Phase("no_dropout")
    for s in sites:
        sw = s.switch
        if sw.kind == "none" or (sw.kind == "train_flag" and sw.dropout_at_eval):
            p.always_on.append(s.layer)
            p.always_on_nodes.append(s.node)
            if sw.kind == "train_flag":
                p.training_true.append(s.layer)
            continue
        found.setdefault((sw.kind, sw.node), (sw, []))[1].append(s.layer)
    p.switches = list(found.values())
    kinds = {k for k, _ in found}
    if not sites:
        p.mechanism = "no_dropout"
    elif kinds & {"learning_phase", "keras_functions"}:
        p.mechanism = "keras_learning_phase" if "learning_phase" in kinds else "keras_functions"
    elif "train_flag" in kinds:
        p.mechanism = "torch_train_eval"
    elif kinds:
        p.mechanism = "placeholder"
    else:
        p.mechanism = "none"
    return p


def inspect(d: ModelDescription) -> str | None:
    p = _phase(d.dropout)
    if p is None or p.mechanism in ("none", "no_dropout"):
        return None
    return _MECHANISM_TEXT.get(p.mechanism, p.mechanism.replace("_", " "))


_MECHANISM_TEXT = {"torch_train_eval": "model.train() / model.eval() (PyTorch modules)"}


def _family(mechanism: str) -> str:
    """Keras' learning-phase placeholder (graph mode), its separate train/test functions (TF2,
    model configs) and PyTorch's model.train()/eval() are one mechanism seen through different
    logs: the framework runs dropout while training only."""
    framework = ("keras_learning_phase", "keras_functions", "torch_train_eval")
    return "framework" if mechanism in framework else mechanism


def _how(f: _Phase) -> str:
    parts = []
    for sw, controls in f.switches:
        if sw.kind == "learning_phase":
            parts.append(
                f"Keras' boolean {sw.node!r} placeholder (default {sw.default}; fit() feeds "
                f"True while training) gates {len(controls)} dropout layer(s)"
            )
        elif sw.kind == "keras_functions":
            parts.append("Keras runs dropout only inside its training function")
        elif sw.kind == "train_flag":
            parts.append(
                f"{len(controls)} PyTorch dropout layer(s) follow model.train()/model.eval() "
                "(traced with train=False in eval mode)"
            )
        else:
            arg = sw.kind.replace("_placeholder", "")
            d = sw.default
            dflt = (
                f"placeholder_with_default({d!r})"
                if isinstance(d, float)
                else "a placeholder without default (must be fed in every run)"
            )
            parts.append(
                f"its own {arg} switch {sw.node!r}, {dflt}, used by "
                f"{len(controls)} dropout layer(s)"
            )
    if f.training_true:
        parts.append(
            f"{', '.join(f.training_true)}: F.dropout(x, p) called without training=..., whose "
            "default training=True keeps it on after model.eval() (write F.dropout(x, p, "
            "training=self.training) or use an nn.Dropout module)"
        )
    if len(f.always_on) > len(f.training_true):
        parts.append(
            f"{len(f.always_on)} dropout layer(s) with a constant rate and no switch "
            f"({', '.join(f.always_on)})"
        )
    return "; ".join(parts) or "no dropout"


def _on_at_eval(f: _Phase) -> bool | None:
    """True if some dropout runs during evaluation, None if that depends on run-time feeds."""
    if f.always_on or any(sw.dropout_at_eval for sw, _ in f.switches):
        return True
    if any(sw.dropout_at_eval is None for sw, _ in f.switches):
        return None
    return False


def _side(f: _Phase, on: bool | None) -> dict[str, Any]:
    return {
        "mechanism": f.mechanism,
        "switches": [sw.node for sw, _ in f.switches if sw.node],
        "dropout_at_eval": on,
        "always_on": f.always_on,
    }


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    fa, fb = _phase(a.dropout), _phase(b.dropout)
    if fa is None or fb is None:
        return []
    ma, mb = fa.mechanism, fb.mechanism
    if "no_dropout" in (ma, mb):
        return []  # nothing to switch on one side: dropout.count_mismatch says what matters
    on_a, on_b = _on_at_eval(fa), _on_at_eval(fb)
    if _family(ma) == _family(mb) and on_a == on_b:
        return []
    nodes_a = [sw.node for sw, _ in fa.switches if sw.node] + fa.always_on_nodes
    nodes_b = [sw.node for sw, _ in fb.switches if sw.node] + fb.always_on_nodes
    side_a, side_b = _side(fa, on_a), _side(fb, on_b)
    how = f"A: {_how(fa)}. B: {_how(fb)}." + provenance(
        (s.source for s in a.dropout), (s.source for s in b.dropout)
    )
    if on_a is False and on_b is False:
        return [
            Finding(
                id="learning_phase.mechanism",
                severity="benign",
                title="Dropout is switched off for evaluation by different mechanisms (equivalent)",
                detail=f"{how} Both graphs train with dropout and evaluate without it by default, "
                "so the different wiring (Keras' learning-phase placeholder connected to every "
                "dropout layer vs a hand-made placeholder) does not change what is learned or "
                "measured.",
                a=side_a,
                b=side_b,
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.1,
            )
        ]
    if True in (on_a, on_b):
        return [_on_at_evaluation(fa, fb, on_a, how, side_a, side_b, nodes_a, nodes_b)]
    side = "A" if on_a is None else "B"
    return [
        Finding(
            id="learning_phase.mechanism",
            severity="warning",
            title=f"Whether {side} evaluates with dropout depends on what its program feeds",
            detail=f"{how} {side}'s dropout switch is a placeholder without a default, so each "
            "sess.run must feed it; the graph cannot tell whether evaluation fed 'no dropout' "
            "(keep_prob=1.0 / rate=0.0). If it fed the training value, test accuracy was measured "
            "with dropout on.",
            a=side_a,
            b=side_b,
            nodes_a=nodes_a,
            nodes_b=nodes_b,
            score=0.2,
        )
    ]


def _on_at_evaluation(
    fa: _Phase,
    fb: _Phase,
    on_a: bool | None,
    how: str,
    side_a: dict[str, Any],
    side_b: dict[str, Any],
    nodes_a: list[str],
    nodes_b: list[str],
) -> Finding:
    """One side's dropout stays on while it evaluates (no train/eval switch)."""
    side, mine = ("A", fa) if on_a else ("B", fb)
    other_off = _on_at_eval(fb if side == "A" else fa) is False
    detail = (
        f"{how} In {side} dropout is "
        + (
            "always active (nothing turns it off)"
            if mine.always_on
            else "active unless the program feeds otherwise"
        )
        + ", i.e. also while the "
        "test/validation accuracy is computed, so that accuracy is measured on a randomly "
        "thinned network and is lower and noisier than the model's real accuracy"
        + (" -- the other graph evaluates without dropout." if other_off else ".")
        + " Training itself is unaffected."
    )
    return Finding(
        id="learning_phase.mechanism",
        severity="warning",
        title=f"{side} has no train/eval switch: its dropout is also on at evaluation",
        detail=detail,
        a=side_a,
        b=side_b,
        nodes_a=nodes_a,
        nodes_b=nodes_b,
        score=0.3,
        fix=(
            f"F.dropout(x, p, training=self.training) (or nn.Dropout) in {{{side.lower()}}}"
            if mine.training_true
            else ""
        ),
    )
