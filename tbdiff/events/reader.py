"""Read the event files of a run: records in file order, each to the module that knows its kind.

`RunReader` walks the validated records of each file (framing.py). One-value scalar events are
decoded in bulk (fastpath.py); every other record is parsed with `Event.FromString`, in file
order, so TensorBoard's "plugin metadata only on a tag's first occurrence" rule applies to both
paths. What an Event or a summary value means is decided by two tables:

* `_EVENT_HANDLERS`: Event kind (`graph_def`, `meta_graph_def`, ...) -> handler;
* `_VALUE_HANDLERS`: plugin of a summary value (`scalars`, `hparams`, ...) -> handler.

A new writer's format is one entry in one of them, plus its decoding in the module that owns
the kind (graphs.py, hparams.py, values.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError
from tbdiff.events import graphs as graph_records
from tbdiff.events import hparams
from tbdiff.events.discovery import find_runs
from tbdiff.events.fastpath import Template, fast_scalars
from tbdiff.events.framing import Chunk, Reporter, chunks
from tbdiff.events.memory import release_freed_memory
from tbdiff.events.model import FileInfo, GraphSource, Run, RunData
from tbdiff.events.series import Purge, Series, purge_warnings
from tbdiff.events.values import (
    DECODE_ERRORS,
    HPARAMS_PLUGIN,
    KERAS_PLUGIN,
    LEGACY_KIND,
    RUN_METADATA_PLUGINS,
    SCALAR_PLUGIN,
    tensor_scalar,
)

_TRIM_EVERY = 4  # chunks read between two release_freed_memory calls (16 MiB)


class RunReader:
    """State shared by the files of one run (tag plugin memory, outputs)."""

    def __init__(
        self,
        run: Run,
        verify_crc: bool,
        want_scalars: bool,
        want_graphs: bool,
        float32_values: bool = False,
    ):
        self.run = run
        self.float32_values = float32_values
        self.verify_crc = verify_crc
        self.want_scalars = want_scalars
        self.want_graphs = want_graphs
        self.data = RunData(name=run.name, path=run.path, files=list(run.files))
        self.series: dict[str, Series] = {}
        self.run_plugin: dict[str, str] = {}  # tag -> plugin, from earlier files of the run
        self.seq = 0  # record sequence number across the run (file order)
        self.hparams = hparams.Collector(self.data)
        self.file_starts: list[tuple[int, str]] = []  # (first seq, path) of each file
        self.session_starts: list[tuple[int, int]] = []  # (seq, step) of SessionLog.START

    # ---- per file ------------------------------------------------------------------------
    def read_file(self, path: Path) -> FileInfo:
        info = self.start_file(path)
        i = 0
        for i, ch in enumerate(chunks(path, info, self.rep, self.verify_crc), 1):
            self._chunk(ch)
            if i % _TRIM_EVERY == 0:  # the chunks' freed buffers: only the values stay resident
                release_freed_memory()
        if i > 1 and i % _TRIM_EVERY:  # and the last ones' (a one-chunk file leaves little)
            release_freed_memory()
        self.end_file()
        return info

    def start_file(self, path: Path) -> FileInfo:
        """Per-file state; `end_file` closes it (read_file, or batch.read_runs)."""
        info = FileInfo(path)
        self.rep = Reporter(path, self.data.warnings, info)
        self.file_starts.append((self.seq, str(path)))
        self.plugin: dict[str, str] = {}  # first-occurrence plugin per tag, this file
        self.templates: dict[tuple[int, bytes], Template] = {}
        self.info = info
        return info

    def end_file(self) -> None:
        for tag, plugin in self.plugin.items():
            if plugin:
                self.run_plugin.setdefault(tag, plugin)
        for s in self.series.values():
            s.flush()

    def tag_plugin(self, tag: str, metadata_plugin: str | None) -> str:
        """TensorBoard's rule: a tag's kind comes from its first occurrence (in this file)."""
        p = self.plugin.get(tag)
        if p is None:
            p = metadata_plugin if metadata_plugin is not None else self.run_plugin.get(tag, "")
            self.plugin[tag] = p
        return p

    def _chunk(self, ch: Chunk) -> None:
        n = len(ch.starts)
        fast_mask = np.zeros(n, dtype=bool)
        markers: list[tuple[int, Template]] = []  # (first index, template) of each fast group
        fast_groups = fast_scalars(ch, fast_mask, markers, self.templates)  # settles CRCs
        self.consume(ch, 0, n, ch.base, fast_mask, fast_groups)

    def consume(
        self, ch: Chunk, lo: int, hi: int, base: int, fast_mask: np.ndarray, groups: list
    ) -> None:
        """Records lo..hi-1 of a settled chunk: this file's (all of a chunk read from it, or
        its share of a chunk of several files, batch.py); `base` is the file offset of
        ch.buf[0]; `groups` the fast groups of these records (record indices in lo..hi-1)."""
        seq0 = self.seq - lo
        self.seq += hi - lo
        keep = ch.keep[lo:hi]
        self.info.records += int(keep.sum())
        slow_idx = (np.flatnonzero(~fast_mask[lo:hi] & keep) + lo).tolist()  # failing CRC: neither
        # process slow records and first uses of fast templates in file order
        items: list[tuple[int, Template | None]] = [(i, None) for i in slow_idx]
        items.extend((int(g[1][0]), g[0]) for g in groups)
        items.sort(key=lambda item: item[0])
        for i, tpl in items:
            if tpl is None:
                s, m = int(ch.starts[i]), int(ch.lengths[i])
                self._slow(ch.buf[s : s + m], base + s - 12, seq0 + i)
                continue
            for slot in tpl.slots:
                meta = SCALAR_PLUGIN if slot.encoding == "simple_value" else slot.meta_plugin
                self.tag_plugin(slot.tag, meta)
        for tpl, idx, steps, walls, vals in groups:
            self._fast_group(tpl, idx + seq0, steps, walls, vals)

    def _fast_group(self, tpl: Template, seqs, steps, walls, vals) -> None:
        count = len(seqs)
        self.info.events["summary"] += count
        if count:
            self.info.note_steps(int(steps.min()), int(steps.max()))
        for slot, values in zip(tpl.slots, vals, strict=True):
            plugin = (
                SCALAR_PLUGIN if slot.encoding == "simple_value" else self.plugin.get(slot.tag, "")
            )
            self.info.values[plugin or "tensors"] += count
            if plugin != SCALAR_PLUGIN or not self.want_scalars:
                continue
            ser = self.series.get(slot.tag)
            if ser is None:
                ser = self.series[slot.tag] = Series()
            ser.flush()
            ser.blocks.append((_narrow_seqs(seqs, self.seq), steps, values, walls))
            ser.encodings.add(slot.encoding)

    # ---- the general path ----------------------------------------------------------------
    def _slow(self, payload: bytes, offset: int, seq: int) -> None:
        info = self.info
        try:
            ev = event_pb2.Event.FromString(payload)
        except DECODE_ERRORS:
            info.events["undecodable"] += 1
            self.rep.warn(
                "event.undecodable",
                f"record at offset {offset} is not an Event protobuf, skipped",
                offset,
            )
            return
        what = ev.WhichOneof("what") or "empty"
        info.events[what] += 1
        info.note_steps(ev.step, ev.step)
        if what == "summary":
            for v in ev.summary.value:
                self._value(ev, v, offset, seq)
            return
        handler = _EVENT_HANDLERS.get(what)
        if handler is not None:
            handler(self, ev, offset, seq)

    def _value(self, ev, v, offset: int, seq: int) -> None:
        kind = v.WhichOneof("value")
        meta_plugin = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else None
        if kind in LEGACY_KIND:
            plugin = LEGACY_KIND[kind]
            self.tag_plugin(v.tag, plugin)
        else:
            plugin = self.tag_plugin(v.tag, meta_plugin)
        self.info.values[plugin or "tensors"] += 1
        if kind == "simple_value":
            if self.want_scalars:
                self.scalar(v.tag, ev.step, ev.wall_time, v.simple_value, "simple_value", seq)
            return
        handler = _VALUE_HANDLERS.get(plugin)
        if handler is not None:
            handler(self, ev, v, offset, seq)

    def scalar(self, tag: str, step: int, wall: float, value: float, enc: str, seq: int) -> None:
        ser = self.series.get(tag)
        if ser is None:
            ser = self.series[tag] = Series()
        ser.order.append(seq)
        ser.steps.append(step)
        ser.values.append(value)
        ser.walls.append(wall)
        ser.encodings.add(enc)

    def add_graph(self, source: GraphSource | None) -> None:
        if source is not None:
            self.data.graphs.append(source)

    def finish(self) -> RunData:
        data = self.data
        restarts = self.session_starts[1:]  # the first START of a run is its start
        purges: list[Purge] = []
        for tag in sorted(self.series):  # each tag's blocks are released once it is built
            data.scalars[tag], dropped = self.series.pop(tag).finish(
                tag, restarts, float32_values=self.float32_values
            )
            purges.extend(dropped)
            release_freed_memory()
        data.warnings.extend(purge_warnings(purges, self.file_starts))
        for fi in data.file_info:
            data.counts.update(fi.events)
            data.counts.update(fi.values)
        return data


def _narrow_seqs(seqs: np.ndarray, bound: int) -> np.ndarray:
    """Record sequence numbers (all below `bound`) as int32 while they fit: 4 bytes a value
    less while reading; a run's blocks of both widths concatenate to int64."""
    if bound < 2**31:
        return seqs.astype(np.int32)
    return seqs


# --------------------------------------------------------------------------------------------
# What each record kind means: one entry per writer format
# --------------------------------------------------------------------------------------------


def _on_graph_def(r: RunReader, ev, offset: int, seq: int) -> None:
    if r.want_graphs:
        file = str(r.info.path)
        r.add_graph(
            graph_records.graph_def(
                "graph_def", file, offset, ev.step, None, ev.graph_def, r.rep.warn
            )
        )


def _on_meta_graph_def(r: RunReader, ev, offset: int, seq: int) -> None:
    if r.want_graphs:
        r.add_graph(
            graph_records.meta_graph_def(
                str(r.info.path), offset, ev.step, ev.meta_graph_def, r.rep.warn
            )
        )


def _on_tagged_run_metadata(r: RunReader, ev, offset: int, seq: int) -> None:
    if r.want_graphs:
        trm = ev.tagged_run_metadata
        file = str(r.info.path)
        r.add_graph(
            graph_records.run_metadata(file, offset, ev.step, trm.tag, trm.run_metadata, r.rep.warn)
        )


def _on_scalar_tensor(r: RunReader, ev, v, offset: int, seq: int) -> None:
    if not r.want_scalars or not v.HasField("tensor"):
        return
    x = tensor_scalar(v.tensor)
    if x is None:
        r.rep.warn(
            "value.skipped",
            f"scalar {v.tag!r} at offset {offset} is not a rank-0 number, skipped",
            offset,
        )
    else:
        r.scalar(v.tag, ev.step, ev.wall_time, x, "tensor", seq)


def _on_keras_model(r: RunReader, ev, v, offset: int, seq: int) -> None:
    if r.want_graphs and v.HasField("tensor"):
        r.add_graph(graph_records.keras_model(str(r.info.path), offset, ev.step, v.tag, v.tensor))


def _on_run_metadata_tensor(r: RunReader, ev, v, offset: int, seq: int) -> None:
    if r.want_graphs and v.HasField("tensor"):
        raw = v.tensor.string_val[0] if v.tensor.string_val else b""
        r.add_graph(
            graph_records.run_metadata(str(r.info.path), offset, ev.step, v.tag, raw, r.rep.warn)
        )


def _on_hparams(r: RunReader, ev, v, offset: int, seq: int) -> None:
    """Metadata alone, with or without a tensor: every writer's shape (see hparams.py)."""
    if v.HasField("metadata") and v.metadata.plugin_data.plugin_name == HPARAMS_PLUGIN:
        content = v.metadata.plugin_data.content
        r.hparams.record(v.tag, content, str(r.info.path), offset, r.rep.warn)


def _on_session_log(r: RunReader, ev, offset: int, seq: int) -> None:
    """SessionLog.START marks a (re)start: TensorBoard purges orphaned steps on it."""
    if ev.session_log.status == event_pb2.SessionLog.START:
        r.session_starts.append((seq, ev.step))


_EVENT_HANDLERS: dict[str, Callable[[RunReader, object, int, int], None]] = {
    "session_log": _on_session_log,
    "graph_def": _on_graph_def,
    "meta_graph_def": _on_meta_graph_def,
    "tagged_run_metadata": _on_tagged_run_metadata,
}
_VALUE_HANDLERS: dict[str, Callable[[RunReader, object, object, int, int], None]] = {
    SCALAR_PLUGIN: _on_scalar_tensor,
    KERAS_PLUGIN: _on_keras_model,
    **{p: _on_run_metadata_tensor for p in RUN_METADATA_PLUGINS},
    HPARAMS_PLUGIN: _on_hparams,
}


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def read_run(
    run: Run,
    *,
    verify_crc: bool = True,
    scalars: bool = True,
    graphs: bool = True,
    float32_values: bool = False,
) -> RunData:
    """Read all event files of one run (file name order, like TensorBoard).

    Scalar values are float64, or with `float32_values` float32 for a tag whose every value
    is exactly a float32 (TF1 `simple_value` and float32 tensors are stored as such)."""
    reader = RunReader(run, verify_crc, scalars, graphs, float32_values)
    for path in run.files:
        reader.data.file_info.append(reader.read_file(path))
    return finish_run(reader, run)


def finish_run(reader: RunReader, run: Run) -> RunData:
    """What follows a run's event files: a Lightning hparams.yaml beside them, the totals."""
    yaml_path = str(run.path / hparams.LIGHTNING_YAML)

    def warn(kind: str, message: str, offset: int | None) -> None:
        reader.data.warnings.append(LogWarning(kind, message, yaml_path, offset))

    hparams.read_lightning_yaml(run.path, reader.data, warn)
    return reader.finish()


def read_logdir(path: str | Path, **kw) -> list[RunData]:
    """All runs under `path`. TbdiffError when no file holds a single readable record."""
    walk_warnings: list[LogWarning] = []
    runs = [read_run(r, **kw) for r in find_runs(path, walk_warnings)]
    if runs and walk_warnings:
        runs[0].warnings[:0] = walk_warnings
    infos = [fi for r in runs for fi in r.file_info]
    if infos and all(fi.records == 0 and (fi.not_event_file or fi.unreadable) for fi in infos):
        first = infos[0]
        why = "cannot be read" if first.unreadable else "is not a TensorBoard event file"
        more = f" (and {len(infos) - 1} more file(s) like it)" if len(infos) > 1 else ""
        raise TbdiffError(f"{first.path} {why}{more}")
    return runs
