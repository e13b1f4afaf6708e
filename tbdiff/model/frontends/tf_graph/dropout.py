"""Dropout sites of a TF op graph, their effective drop probability and train/eval switch.

Recognised forms (each reduced to "drop probability p during training"):
- TF >= 1.14 / 2.x ops: ``GreaterEqual(random_uniform, rate)`` feeding SelectV2 (or Cast/Mul);
  ``rate`` is a Const, a placeholder, or ``1 - keep_prob`` (a ``Sub`` from 1) when the
  program used the TF1 ``keep_prob`` argument with a tensor.
- TF <= 1.13 ops: ``Floor(keep_prob + random_uniform)``; keep_prob may be ``1 - rate``.
- Keras graph mode: the above inside the then-branch of an ``If`` (or Switch/Merge cond) on
  ``keras_learning_phase``; TF2 train functions: the above inside the traced train step.
The random operand must be random values scaled by constants (`query.random_source`): a
``logits >= 0`` test inside `sigmoid_cross_entropy_with_logits` whose logits come after a
dropout layer is not a dropout site. A probability coming from a placeholder takes the value the
run fed (`RunInputs.fed_value`); without it the site is reported as fed at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import DropoutSite, Switch
from tbdiff.model.index import graph_index
from tbdiff.model.inputs import RunInputs
from tbdiff.model.numbers import r4


@dataclass(frozen=True)
class SiteNodes:
    """Where a dropout site is, before any value is read."""

    node: str  # the threshold test (GreaterEqual / Floor)
    random: str  # the random op the mask is drawn from
    expr: str  # the tensor holding the drop (or, for Floor, keep) probability
    expr_is_keep: bool
    layer: str


def site_nodes(g: nx.MultiDiGraph) -> list[SiteNodes]:
    """Structural dropout sites in data-path order (memoised per graph)."""
    return Q.cached(g, "dropout_sites", lambda: _site_nodes(g))


def _site_nodes(g: nx.MultiDiGraph) -> list[SiteNodes]:
    found: dict[str, SiteNodes] = {}
    for n, d in g.nodes(data=True):
        o = d.get("op")
        if o not in O.THRESHOLD_OPS and o != "Floor":
            continue
        if O.is_gradient_node(n):
            continue
        layer = Q.layer_name(Q.local_name(g, n), strip=("dropout",)) or "dropout"
        if o in O.THRESHOLD_OPS:
            x, thr = Q.input_at(g, n, 0), Q.input_at(g, n, 1)
            rnd = Q.random_source(g, x)
            if thr is not None and rnd is not None and Q.random_source(g, thr) is None:
                found[n] = SiteNodes(n, rnd, thr, False, layer)
            continue
        add = Q.input_at(g, n, 0)
        if add is None or Q.op(g, add) not in ("Add", "AddV2"):
            continue
        ins = Q.data_inputs(g, add)
        rnd_srcs = [(u, Q.random_source(g, u)) for u in ins]
        rnd = [(u, s) for u, s in rnd_srcs if s is not None]
        keep = [u for u, s in rnd_srcs if s is None]
        if len(rnd) == 1 and len(keep) == 1:
            found[n] = SiteNodes(n, rnd[0][1], keep[0], True, layer)
    ix = graph_index(g)
    depth = ix.depth()
    order = sorted(found, key=lambda n: (depth[ix.idx[n]], Q.natural_key(n)))
    return [found[n] for n in order]


def _gate(g: nx.MultiDiGraph, node: str) -> tuple[str | None, str | None]:
    """(placeholder switching this site on/off, how) - Keras learning phase or a train fn."""
    # TF2 functional cond: the site is inlined in an If branch; its predicate is input 0.
    caller = g.nodes[node].get("call_site")
    hops = 0
    while caller and caller in g and hops < 8:
        if Q.op(g, caller) in O.IF_OPS:
            pred = Q.input_at(g, caller, 0)
            if pred is not None:
                src = Q.resolve(g, pred)
                if Q.op(g, src) in O.PLACEHOLDERS:
                    return src, "cond"
        caller = g.nodes[caller].get("call_site")
        hops += 1
    # TF1 Switch/Merge cond: `<...>/cond/pred_id` or `<...>/cond/Switch` next to the site.
    parts = node.split("/")
    for i in range(len(parts) - 1, 0, -1):
        if not parts[i - 1].startswith("cond"):
            continue
        prefix = "/".join(parts[:i])
        for cand, port in ((f"{prefix}/pred_id", 0), (f"{prefix}/Switch", 1)):
            if cand in g:
                pred = Q.input_at(g, cand, port)
                if pred is not None:
                    src = Q.resolve(g, pred)
                    if Q.op(g, src) in O.PLACEHOLDERS:
                        return src, "cond"
    fn = g.nodes[node].get("function") or ""
    if "train_function" in fn or "train_step" in fn or Q.in_train_function(g, node):
        return None, "train_function"
    return None, None


def _written(g: nx.MultiDiGraph, root: str, expr_is_keep: bool) -> tuple[str, str, bool]:
    """(node holding the number the program wrote, its argument name, complemented?).

    `1 - X` means X is the other convention's value (keep_prob passed where TF wants a rate)."""
    if Q.op(g, root) == "Sub":
        ins = Q.data_inputs(g, root)
        if (
            len(ins) == 2
            and Q.evaluate(g, ins[0]) == 1.0
            and Q.op(g, Q.resolve(g, ins[0])) == "Const"
        ):
            return Q.resolve(g, ins[1]), ("rate" if expr_is_keep else "keep_prob"), True
    return root, ("keep_prob" if expr_is_keep else "rate"), False


def _site(g: nx.MultiDiGraph, inputs: RunInputs, s: SiteNodes) -> DropoutSite:
    root = Q.resolve(g, s.expr)
    written_node, written_as, _ = _written(g, root, s.expr_is_keep)
    placeholders = Q.placeholders_in(g, s.expr)
    fed = {ph: f for ph in placeholders if (f := inputs.fed_value(ph)) is not None}
    fed_values = {k: v.value for k, v in fed.items()}
    unresolved = [p for p in placeholders if p not in fed]

    def to_drop(v: float | None) -> float | None:
        return None if v is None else (1.0 - v if s.expr_is_keep else v)

    drop = to_drop(None if unresolved else Q.evaluate(g, s.expr, fed_values))
    default = to_drop(Q.evaluate(g, s.expr))  # nothing fed: PlaceholderWithDefault defaults
    gate, gate_how = _gate(g, s.node)
    # Keras layers draw their masks from seeded stateless random ops; tf.nn.dropout in a
    # tf.function (or TF1) uses the stateful RandomUniform
    stateless = Q.op(g, s.random).startswith("Stateless")
    keras = gate is not None or (gate_how == "train_function" and stateless)
    framework = "keras" if keras else "tf"
    return DropoutSite(
        layer=s.layer,
        node=s.node,
        drop_rate=r4(drop),
        written_as=written_as,
        written_value=None if unresolved else r4(Q.evaluate(g, written_node, fed_values)),
        framework=framework,
        switch=_switch(g, gate, gate_how, placeholders, written_as, r4(default)),
        written_const=Q.op(g, written_node) == "Const",
        written_node=written_node,
        default_drop_rate=r4(default),
        placeholders=placeholders,
        fed=fed,
        unresolved=unresolved,
    )


def _switch(
    g: nx.MultiDiGraph,
    gate: str | None,
    gate_how: str | None,
    placeholders: list[str],
    written_as: str,
    default_drop: float | None,
) -> Switch:
    """How this site is turned off at evaluation."""
    if gate:
        default = Q.placeholder_default(g, gate)
        on_at_eval = bool(default) if default is not None else None
        if default is None and "learning_phase" in gate:
            on_at_eval = False  # old Keras: a plain placeholder, fed 0 by evaluate()/predict()
        return Switch(
            "learning_phase",
            gate,
            Q.op(g, gate),
            None if default is None else bool(default),
            dropout_at_eval=on_at_eval,
        )
    if gate_how == "train_function":
        # TF2 Keras traces separate train/test functions; dropout only exists in training.
        return Switch("keras_functions", dropout_at_eval=False)
    if placeholders:
        ph = placeholders[0]
        default = Q.placeholder_default(g, ph)
        return Switch(
            written_as + "_placeholder",
            ph,
            Q.op(g, ph),
            default.tolist() if hasattr(default, "tolist") else default,
            default_drop,
            # plain Placeholder: whatever the program feeds at evaluation (not in the logs)
            None if default_drop is None else default_drop > 0,
        )
    return Switch("none", dropout_at_eval=True)


def sites(g: nx.MultiDiGraph, inputs: RunInputs) -> list[DropoutSite]:
    """Every dropout site of `g` with its values, in data-path order."""
    return [_site(g, inputs, s) for s in site_nodes(g)]
