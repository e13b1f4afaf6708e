"""Benchmark graph loading + alignment on large training graphs (``make bench``).

Pairs (built once, cached as GraphDef ``.pb`` under ``bench_out/align/``):

- ``resnet50``: tf_keras.applications.ResNet50(weights=None), compiled with SGD+momentum vs Adam,
  train function built (graph mode, so the GraphDef holds gradients and optimizer updates);
- ``bert``: a BERT-base-like 12-block encoder (tf_keras MultiHeadAttention, LayerNormalization,
  Dense), compiled with Adam + train function, against itself with block 6's feed-forward
  changed (relu, 2048 units);
- ``synthetic100k``: a 100,000-node random layered DAG against a copy with half of its scopes
  renamed, 0.5 % of nodes removed, 0.5 % added and 0.5 % of constants changed (true partners
  known, so the report includes precision).

Building needs TensorFlow and runs in a subprocess (``--build``); every measurement runs in its
own subprocess (``--measure NAME``) so that peak RSS is that of loading + aligning one pair.
Also times a baseline on the ResNet pair: exact names + networkx Weisfeiler-Lehman hashes.

Columns: load s / align s = wall seconds to load both graphs (parse + inline) and to align
them; total = their sum; cpu s = CPU seconds of both (wall time suffers when the machine is
shared); peak MB = max RSS of the measuring process; layers = paired / all layer rows.

Usage: python scripts/bench_align.py [--out bench_out/align] [--only resnet50,bert,...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ("resnet50", "bert", "synthetic100k")


# ----------------------------------------------------------------------------------------------
# building (TensorFlow only in this part, only in the --build subprocess)
# ----------------------------------------------------------------------------------------------


def _build_tf(out: Path, names: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras

    tf.compat.v1.disable_eager_execution()

    def save(g, name: str) -> None:
        (out / f"{name}.pb").write_bytes(g.as_graph_def().SerializeToString())
        print(f"  wrote {name}.pb ({len(g.as_graph_def().node)} nodes)", flush=True)

    def resnet(opt_name: str):
        keras.backend.clear_session()
        g = tf.Graph()
        with g.as_default():
            model = keras.applications.ResNet50(weights=None)
            # graph-mode (v1) training needs the legacy optimizers (get_updates)
            opt = (
                keras.optimizers.legacy.SGD(learning_rate=0.1, momentum=0.9)
                if opt_name == "momentum"
                else keras.optimizers.legacy.Adam(learning_rate=1e-3)
            )
            model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
            model._make_train_function()
        return g

    def bert(changed_block: int | None):
        keras.backend.clear_session()
        g = tf.Graph()
        hidden, heads, ffn, seq, vocab = 768, 12, 3072, 128, 30522
        with g.as_default():
            ids = keras.layers.Input(shape=(seq,), dtype="int32", name="input_ids")
            tok = keras.layers.Embedding(vocab, hidden, name="word_embeddings")(ids)
            pos_ids = tf.range(seq)[tf.newaxis, :]
            pos = keras.layers.Embedding(512, hidden, name="position_embeddings")(pos_ids)
            x = keras.layers.Add(name="embeddings_add")([tok, pos])
            x = keras.layers.LayerNormalization(epsilon=1e-12, name="embeddings_ln")(x)
            x = keras.layers.Dropout(0.1, name="embeddings_dropout")(x)
            for i in range(12):
                p = f"encoder/layer_{i}"
                att = keras.layers.MultiHeadAttention(
                    heads, hidden // heads, dropout=0.1, name=f"{p}/attention"
                )(x, x)
                att = keras.layers.Dropout(0.1, name=f"{p}/attention_dropout")(att)
                x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"{p}/attention_ln")(
                    keras.layers.Add(name=f"{p}/attention_add")([x, att])
                )
                units, act = (2048, "relu") if i == changed_block else (ffn, "gelu")
                h = keras.layers.Dense(units, activation=act, name=f"{p}/intermediate")(x)
                h = keras.layers.Dense(hidden, name=f"{p}/output")(h)
                h = keras.layers.Dropout(0.1, name=f"{p}/output_dropout")(h)
                x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"{p}/output_ln")(
                    keras.layers.Add(name=f"{p}/output_add")([x, h])
                )
            cls = keras.layers.Dense(hidden, activation="tanh", name="pooler")(x[:, 0])
            model = keras.Model(ids, cls)
            model.compile(optimizer=keras.optimizers.legacy.Adam(1e-4), loss="mse")
            model._make_train_function()
        return g

    if "resnet50" in names:
        save(resnet("momentum"), "resnet50_a")
        save(resnet("adam"), "resnet50_b")
    if "bert" in names:
        save(bert(None), "bert_a")
        save(bert(6), "bert_b")


def _build_synthetic(out: Path, n: int = 100_000, seed: int = 0) -> None:
    """Random layered DAG (no TF): blocks of ~50 ops with local inputs, Consts with values."""
    from tensorboard.compat.proto import graph_pb2, types_pb2

    rng = random.Random(seed)
    ops = ["MatMul", "AddV2", "Relu", "Mul", "Sub", "Reshape", "Identity", "ConcatV2", "Sigmoid"]
    ops += ["Tanh", "Sum", "Mean", "Square", "Sqrt", "Transpose", "Conv2D", "BiasAdd", "Softmax"]

    def make(gd, names, ops_of, inputs_of, values) -> None:
        for name in names:
            nd = gd.node.add(name=name, op=ops_of[name])
            nd.input.extend(inputs_of[name])
            nd.attr["T" if ops_of[name] != "Const" else "dtype"].type = types_pb2.DT_FLOAT
            if ops_of[name] == "Const":
                t = nd.attr["value"].tensor
                t.dtype = types_pb2.DT_FLOAT
                t.float_val.append(values[name])

    names: list[str] = []
    ops_of: dict[str, str] = {}
    inputs_of: dict[str, list[str]] = {}
    values: dict[str, float] = {}
    for i in range(n):
        blk = i // 50
        name = f"block{blk}/unit{(i % 50) // 10}/n{i}"
        if i < 10 or rng.random() < 0.3:
            ops_of[name] = "Const" if i >= 10 else "Placeholder"
            inputs_of[name] = []
            values[name] = round(rng.uniform(-1, 1), 3)
            if i < 10:
                ops_of[name] = "Placeholder"
        else:
            ops_of[name] = rng.choice(ops)
            k = rng.choice((1, 2, 2, 2, 3))
            lo = max(0, i - 120)
            inputs_of[name] = [names[rng.randrange(lo, i)] for _ in range(k)]
        names.append(name)
    a = graph_pb2.GraphDef()
    make(a, names, ops_of, inputs_of, values)
    (out / "synthetic100k_a.pb").write_bytes(a.SerializeToString())

    # B: rename half of the block scopes, drop / add / change 0.5 % of nodes
    renamed_blocks = {b for b in range(n // 50 + 1) if rng.random() < 0.5}
    truth: dict[str, str] = {}
    drop = {nm for nm in names[10:] if rng.random() < 0.005}
    for nm in names:
        blk = int(nm.split("/")[0][5:])
        truth[nm] = (
            nm.replace(f"block{blk}/", f"stage_{blk * 7919 % 100003}/", 1)
            if (blk in renamed_blocks)
            else nm
        )
    names_b, ops_b, inputs_b, values_b = [], {}, {}, {}
    for nm in names:
        if nm in drop:
            continue
        nb = truth[nm]
        names_b.append(nb)
        ops_b[nb] = ops_of[nm]
        new_inputs = []
        for s in inputs_of[nm]:
            while s in drop:  # bypass removed producers
                s = inputs_of[s][0] if inputs_of[s] else names[0]
            new_inputs.append(truth[s])
        inputs_b[nb] = new_inputs
        if nm in values:
            values_b[nb] = values[nm] + (0.5 if rng.random() < 0.005 else 0.0)
        if rng.random() < 0.005:  # an extra node consuming this one
            extra = f"{nb}_extra"
            names_b.append(extra)
            ops_b[extra] = "Identity"
            inputs_b[extra] = [nb]
    b = graph_pb2.GraphDef()
    make(b, names_b, ops_b, inputs_b, values_b)
    (out / "synthetic100k_b.pb").write_bytes(b.SerializeToString())
    truth = {k: v for k, v in truth.items() if k not in drop}
    (out / "synthetic100k_truth.json").write_text(json.dumps(truth))
    print(f"  wrote synthetic100k_a.pb ({len(a.node)}) / _b.pb ({len(b.node)} nodes)", flush=True)


# ----------------------------------------------------------------------------------------------
# measuring (no TensorFlow)
# ----------------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(out: Path, name: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from tbdiff.align import align
    from tbdiff.graph import graph_from_path

    base_mb = _peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    ga, _ = graph_from_path(out / f"{name}_a.pb")
    gb, _ = graph_from_path(out / f"{name}_b.pb")
    t1, c1 = time.perf_counter(), time.process_time()
    al = align(ga, gb)
    t2, c2 = time.perf_counter(), time.process_time()
    counts = al.counts()
    res = {
        "pair": name,
        "nodes_a": ga.number_of_nodes(),
        "nodes_b": gb.number_of_nodes(),
        "matched": counts["matched"],
        "changed": counts["changed"],
        "only_a": counts["only_a"],
        "only_b": counts["only_b"],
        "match_rate_a": len(al.pairs) / max(1, ga.number_of_nodes()),
        "load_s": t1 - t0,
        "align_s": t2 - t1,
        "align_cpu_s": c2 - c1,
        "load_cpu_s": c1 - c0,
        "peak_mb": _peak_mb(),
        "base_mb": base_mb,
        "layers": sum(1 for p in al.layers if p.a and p.b),
        "layers_total": len(al.layers),
        "layer_changes": [
            f"{p.a}->{p.b} {p.shape_a}->{p.shape_b}" for p in al.layers if p.status != "matched"
        ][:6],
        "stats": al.stats,
    }
    truth_file = out / f"{name}_truth.json"
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
        right = sum(1 for a, b in truth.items() if al.pairs.get(a) == b)
        wrong = sum(1 for a, b in al.pairs.items() if truth.get(a) != b)
        res["recall"] = right / len(truth)
        res["precision"] = 1 - wrong / max(1, len(al.pairs))
    elif name == "resnet50":
        res["baseline"] = _baseline(ga, gb)
    return res


def _baseline(ga, gb) -> dict:
    """Exact names + networkx WL subgraph hashes over simple DiGraph views (op labels)."""
    import networkx as nx

    t0 = time.perf_counter()
    pairs = {n: n for n in ga if n in gb and ga.nodes[n]["op"] == gb.nodes[n]["op"]}
    name_matches = len(pairs)
    sa, sb = nx.DiGraph(ga), nx.DiGraph(gb)
    ha = nx.weisfeiler_lehman_subgraph_hashes(sa, node_attr="op", iterations=3)
    hb = nx.weisfeiler_lehman_subgraph_hashes(sb, node_attr="op", iterations=3)
    done_b = set(pairs.values())
    by_a: dict[str, list[str]] = {}
    by_b: dict[str, list[str]] = {}
    for n, h in ha.items():
        if n not in pairs:
            by_a.setdefault(h[-1], []).append(n)
    for n, h in hb.items():
        if n not in done_b:
            by_b.setdefault(h[-1], []).append(n)
    extra = 0
    for h, xs in by_a.items():
        ys = by_b.get(h, [])
        if len(xs) == 1 and len(ys) == 1:
            pairs[xs[0]] = ys[0]
            extra += 1
    return {
        "seconds": time.perf_counter() - t0,
        "name_matches": name_matches,
        "wl_extra_matches": extra,
        "distinct_wl_hashes_a": len({h[-1] for h in ha.values()}),
        "match_rate_a": len(pairs) / ga.number_of_nodes(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "bench_out" / "align"))
    ap.add_argument("--only", default=",".join(PAIRS))
    ap.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.only.split(",") if n]
    if args.build:
        tf_names = [n for n in names if n in ("resnet50", "bert")]
        if tf_names:
            _build_tf(out, tf_names)
        if "synthetic100k" in names:
            _build_synthetic(out)
        return
    if args.measure:
        print(json.dumps(_measure(out, args.measure)))
        return

    missing = [n for n in names if not (out / f"{n}_b.pb").exists()]
    if missing:
        print(f"building {', '.join(missing)} (once; cached in {out}) ...", flush=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--build", "--out", str(out), "--only", ",".join(missing)],
            check=True,
            env=env,
        )
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.process_time()
    x = 0
    for i in range(10_000_000):
        x += i
    calib = time.process_time() - t
    print(f"machine: 10M-iteration Python loop = {calib:.2f} s CPU, load {os.getloadavg()[0]:.1f}")
    rows = []
    for n in names:
        r = subprocess.run(
            [sys.executable, __file__, "--measure", n, "--out", str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    hdr = (
        f"{'pair':14s} {'nodes A/B':>15s} {'matched':>8s} {'changed':>8s} {'only A/B':>13s} "
        f"{'rate A':>7s} {'load s':>7s} {'align s':>8s} {'total':>6s} {'cpu s':>6s} "
        f"{'peak MB':>8s} layers"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(
            f"{r['pair']:14s} {r['nodes_a']:>7d}/{r['nodes_b']:<7d} {r['matched']:>8d} "
            f"{r['changed']:>8d} {r['only_a']:>6d}/{r['only_b']:<6d} {r['match_rate_a']:>7.1%} "
            f"{r['load_s']:>7.2f} {r['align_s']:>8.2f} {r['load_s'] + r['align_s']:>6.2f} "
            f"{r['load_cpu_s'] + r['align_cpu_s']:>6.2f} "
            f"{r['peak_mb']:>8.0f} {r['layers']}/{r['layers_total']}"
        )
    for r in rows:
        if "precision" in r:
            print(f"{r['pair']}: precision {r['precision']:.4f}, recall {r['recall']:.4f}")
        if "baseline" in r:
            b = r["baseline"]
            print(
                f"{r['pair']} baseline (names + networkx WL): {b['seconds']:.2f} s, "
                f"{b['name_matches']} name matches, +{b['wl_extra_matches']} from WL "
                f"({b['distinct_wl_hashes_a']} distinct hashes), rate {b['match_rate_a']:.1%}"
            )
        if r["layer_changes"]:
            print(f"{r['pair']} layer differences: {'; '.join(r['layer_changes'])}")
    (out / "results.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
