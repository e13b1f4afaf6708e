"""Find TensorBoard runs and read their event files without TensorFlow.

Why our own reader: TensorBoard's loaders either import TensorFlow (slow start, heavy) or parse
one record at a time in Python, which is slow for long runs, and they stop silently at the first
damaged record. We read the TFRecord framing ourselves, verify every CRC, report damage with file
and offset, resume after it when possible, and never write into the log directory.

The package, one job per module:

    model.py      the public data model: Run, RunData, FileInfo, ScalarSeries, GraphSource;
                  what is readable (FileInfo.problem/status, RunData.readable, nothing_readable)
    storage.py    local paths, or object storage through fsspec URLs (RemotePath); the one
                  place files are opened
    discovery.py  which directories are runs, which files are event files (local or a prefix)
    crc.py        CRC32C, vectorised with numpy; by linearity for records differing in a few bytes
    framing.py    TFRecord framing: chunked reads, records grouped by length as row arrays,
                  CRC checks (lazy for small records: Chunk.settle), truncation and corruption
                  recovery; what a file is, told by content (sniff_file: empty, cut, not_event)
    fastpath.py   scalar events (one or several values per Summary) decoded a chunk at a time
    values.py     value decoding shared by both paths (plugins, legacy kinds, rank-0 tensors)
    series.py     scalar columns of one tag -> ScalarSeries, in file order, orphans of a
                  restart purged (TensorBoard's rule, per tag) and reported
    graphs.py     graph records (GraphDef, MetaGraphDef, run metadata, Keras model config)
    hparams.py    hyper-parameters: hparams plugin metadata of every writer, Lightning's yaml
    reader.py     a run's records in file order, each to the module that owns its kind
                  (two tables: Event kind -> handler, summary plugin -> handler)
    batch.py      many small runs in one vectorised pass (their files laid end to end and
                  framed / CRC-checked / fast-path decoded as one chunk), for sweeps
    inventory.py  the JSON-ready data behind `tbdiff inspect`
    memory.py     freed buffers given back to the OS (glibc malloc_trim) as a run is read

Problems are `tbdiff.diagnostics.LogWarning` records (kind, message, path, offset) collected in
`RunData.warnings`; renderers format them. Kinds emitted here: io.unreadable, io.empty,
io.not_event_file, record.truncated, record.corrupt, record.suppressed, event.undecodable,
value.skipped, scalars.restart, scalars.overlap, graph.load, hparams.

Design (chosen by measurement with scripts/bench_events.py; a per-record Python loop doing
framing + two crc32c calls + Event.FromString costs ~4 us/record here, i.e. >12 s for 3M):

* Files are read in 4 MiB chunks, so memory stays flat in the number of events; only the
  scalar values themselves grow (numpy blocks, concatenated once at the end).
* Framing walk: inherently sequential, so it is the one Python loop left. It is
  short-circuited by speculation: scalar logs repeat a small cycle of record sizes, so after
  32 plain steps the next positions are predicted from that cycle and all checked with one
  strided read per position in the cycle; predictions are kept up to the first mismatch
  (exact by induction).
* Small files (a sweep's runs) cost per file and per record length, not per record: lengths
  with fewer than 8 records go the general path, and `batch.read_runs` reads many runs'
  files as one chunk so each length group spans all of them.
* Records of one payload length (<= 300 bytes) are copied once into a contiguous (records x
  bytes) array: every later pass reads columns of it. Header CRCs are checked once per
  length (equal lengths, equal headers). Payload CRCs: the fast path checks the records it
  decodes by CRC linearity (crc(m) = crc(ref) ^ raw(m ^ ref) for equal lengths), one table
  lookup per byte that may differ (wall time, step, values) instead of one per byte; the rest
  use slicing-by-4 tables (crc_rows) or the `crc32c` C extension (big records). A bad header
  CRC means the length can't be trusted: we scan forward (vectorised) for the next offset
  whose header CRC verifies and resume.
* Scalar fast path: a representative record's layout (wall, step, one or more tag/value
  slots) says which bytes may differ; records equal to it elsewhere (8-byte compares) share
  it; one representative per layout is proven with protobuf (distinct sentinels per slot)
  and the whole group decoded at once (fastpath.py). Leftovers are grouped per record.
* Everything else (graphs, histograms, hparams, a tag's first TF2 event carrying plugin
  metadata) goes through `Event.FromString` in file order, so TensorBoard's "plugin metadata
  only on a tag's first occurrence" rule applies to both paths.

Measured with scripts/bench_events.py, 3,000,000 scalar events per file, CRCs verified, on the
2-core dev machine while it was quiet (2026-11-26; seconds / peak RSS):
    file  tbdiff          LegacyEventFileLoader  EventAccumulator   tbparse
    TF1   2.7 s / 262 MB  7.8 s / 594 MB         39 s / 1.2 GB      40 s / 1.5 GB
    TF2   2.2 s / 261 MB  8.2 s / 594 MB         56 s / 4.7 GB      129 s / 5.1 GB
(EventFileLoader, measured under load only: 558 s TF1 / 93 s TF2.)
tbdiff's peak RSS is ~260 MB vs ~44 MB for 30,000 events: the growth is the per-event columns
(step, value, wall time, file order: 32 B x 3M = 96 MB) plus their file-ordered copy at the end.
Since then the fast path keeps values as the float32 they are on disk and file order as int32
while reading (24 B a value; `read_run(float32_values=True)` keeps float32 values after it,
for read_scalars; the default widens each tag to float64 when it is finished).
Each tag's blocks are now released column by column as it is finished, and the chunks' freed
buffers go back to the OS every 64 MiB read (memory.py); the latter alone: TF1 200 -> 172 MB,
TF2 234 -> 213 MB, for +0.1 CPU s (`bench_events.py --tools tbdiff --baseline HEAD --repeat 3`, one
run, 2026-12-02, busy machine). Reading 4 MiB at a time (was 8) and trimming every 16 MiB and at
the end of a file: TF1 147 -> 135 MB, TF2 154 -> 155 MB, CPU unchanged (0.80/0.81 s, 0.85/0.85 s;
same command, HEAD~1, one run, 2026-12-02, bytecode-compiled imports).
The package split, content checks, hparams and orphan purging (issue 9) left this unchanged
within the noise of a shared machine: `bench_events.py --baseline` side by side, CPU seconds of
the read, 3M events, TF1 2.78 s vs 2.95 s before, TF2 3.15 s vs 3.04 s before.
"""

from __future__ import annotations

from tbdiff.events.discovery import EVENT_FILE_MARKER, find_runs, is_event_file_name
from tbdiff.events.framing import iter_records, sniff_file
from tbdiff.events.graphs import merge_graph_defs
from tbdiff.events.inventory import INSPECT_SCHEMA, inventory, warning_groups
from tbdiff.events.model import (
    FileInfo,
    GraphSource,
    HParamSource,
    Run,
    RunData,
    ScalarSeries,
    nothing_readable,
)
from tbdiff.events.reader import read_logdir, read_run

__all__ = [
    "EVENT_FILE_MARKER",
    "INSPECT_SCHEMA",
    "ScalarSeries",
    "GraphSource",
    "Run",
    "FileInfo",
    "RunData",
    "find_runs",
    "read_run",
    "read_logdir",
    "iter_records",
    "is_event_file_name",
    "inventory",
    "merge_graph_defs",
    "nothing_readable",
    "sniff_file",
    "warning_groups",
    "HParamSource",
]
