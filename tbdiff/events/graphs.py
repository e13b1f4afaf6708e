"""Graph records: GraphDef, MetaGraphDef, run metadata and Keras model configs, kept serialized.

Each function turns one record into a `GraphSource` (node and function counts for choosing the
most complete graph; the payload is decoded again only when a graph is built), or reports why
it could not and returns None.
"""

from __future__ import annotations

from collections.abc import Callable

from tensorboard.compat.proto import config_pb2, graph_pb2, meta_graph_pb2

from tbdiff.events.model import GraphSource
from tbdiff.events.values import DECODE_ERRORS

Warn = Callable[[str, str, int | None], None]  # (kind, message, offset)


def graph_def(
    kind: str, file: str, offset: int, step: int, tag: str | None, raw: bytes, warn: Warn
) -> GraphSource | None:
    """A serialized GraphDef (the event's own, or one extracted from a bigger record)."""
    try:
        g = graph_pb2.GraphDef.FromString(raw)
    except DECODE_ERRORS:
        warn("graph.load", f"undecodable {kind} at offset {offset}", offset)
        return None
    fn_nodes = sum(len(fn.node_def) for fn in g.library.function)
    return GraphSource(
        kind, file, offset, step, tag, len(g.node), len(g.library.function), bytes(raw), fn_nodes
    )


def meta_graph_def(file: str, offset: int, step: int, raw: bytes, warn: Warn) -> GraphSource | None:
    """The GraphDef inside a MetaGraphDef record (None when it holds none)."""
    try:
        mg = meta_graph_pb2.MetaGraphDef.FromString(raw)
    except DECODE_ERRORS:
        warn("graph.load", f"undecodable meta_graph_def at offset {offset}", offset)
        return None
    if not mg.HasField("graph_def"):
        return None
    return graph_def(
        "meta_graph_def", file, offset, step, None, mg.graph_def.SerializeToString(), warn
    )


def run_metadata(
    file: str, offset: int, step: int, tag: str, raw: bytes, warn: Warn
) -> GraphSource | None:
    """The graphs of a RunMetadata record, merged as TensorBoard's graphs plugin shows them."""
    try:
        rm = config_pb2.RunMetadata.FromString(raw)
    except DECODE_ERRORS:
        warn("graph.load", f"undecodable run metadata {tag!r} at offset {offset}", offset)
        return None
    # TensorBoard's graphs plugin shows the functions' pre-optimization graphs; TF1 traces
    # (add_run_metadata with FULL_TRACE) only carry partition graphs.
    graphs = [fg.pre_optimization_graph for fg in rm.function_graphs]
    if not graphs:
        graphs = list(rm.partition_graphs)
    if not graphs:  # profile only: nothing to draw
        return None
    merged = merge_graph_defs(graphs)
    return graph_def("run_metadata", file, offset, step, tag, merged.SerializeToString(), warn)


def keras_model(file: str, offset: int, step: int, tag: str, tensor) -> GraphSource:
    """A Keras model config (JSON in a string tensor): a layer graph, no op graph."""
    raw = tensor.string_val[0] if tensor.string_val else b""
    return GraphSource("keras_model", file, offset, step, tag, 0, 0, bytes(raw))


def merge_graph_defs(graphs: list) -> graph_pb2.GraphDef:
    """One GraphDef from several, each prefixed `graph_{i}/` (functions `graph_{i}_`) as TensorBoard does."""
    if len(graphs) == 1:
        return graphs[0]
    out = graph_pb2.GraphDef()
    for i, g in enumerate(graphs, start=1):
        prefix = f"graph_{i}"
        fn_names = {f.signature.name for f in g.library.function}
        for node in g.node:
            nn = out.node.add()
            nn.CopyFrom(node)
            nn.name = f"{prefix}/{node.name}"
            del nn.input[:]
            for inp in node.input:
                ctl = inp.startswith("^")
                nn.input.append(("^" if ctl else "") + f"{prefix}/{inp.lstrip('^')}")
            if nn.op in fn_names:
                nn.op = f"{prefix}_{nn.op}"
            for attr in nn.attr.values():
                if attr.HasField("func") and attr.func.name in fn_names:
                    attr.func.name = f"{prefix}_{attr.func.name}"
        for fn in g.library.function:
            nf = out.library.function.add()
            nf.CopyFrom(fn)
            nf.signature.name = f"{prefix}_{fn.signature.name}"
        if g.HasField("versions") and not out.HasField("versions"):
            out.versions.CopyFrom(g.versions)
    return out
