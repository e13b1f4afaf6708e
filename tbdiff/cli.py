"""Command-line parsing only: every command's work lives in `tbdiff.app`.

Keeping this module free of analysis code means `tbdiff --help` stays instant and
the parser can be read in one screen.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import NoReturn

from tbdiff import __version__

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2
MIN_WIDTH = 60  # narrower, the tables fold every cell and stop being readable


class Parser(argparse.ArgumentParser):
    """argparse with tbdiff's usage errors: one line on stderr, a pointer to --help, exit 2."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: the subcommands' parsers by name (set by `build_parser`), so that an unknown flag
        #: of `tbdiff compare` points to `tbdiff compare --help`
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"tbdiff: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            owner = self.commands.get(getattr(parsed, "command", None) or "", self)
            owner.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


GRAPH_SOURCES = ("auto", "graph_def", "meta_graph_def", "run_metadata", "keras_model")


def feed_value(name: str, value: object) -> float:
    """The number fed to placeholder `name`; ValueError (the message users see) otherwise."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"value of {name} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"value of {name} must be a finite number: {value!r}")
    return number


def parse_feed(text: str) -> tuple[str, float]:
    """`NAME=VALUE` (the --feed flag and the API's feeds); ValueError with the message."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name, feed_value(name, value)


def parse_pair(text: str) -> tuple[str, str]:
    """`A_TAG=B_TAG` (the --pair flag and the API's pairs); ValueError with the message."""
    a, sep, b = text.partition("=")
    if not sep or not a or not b:
        raise ValueError(f"expected A_TAG=B_TAG, got {text!r}")
    return a, b


def _feed(text: str) -> tuple[str, float]:
    try:
        return parse_feed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _width(text: str) -> int:
    try:
        width = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of columns, got {text!r}") from None
    if width < MIN_WIDTH:
        raise argparse.ArgumentTypeError(
            f"{width} columns is too narrow to read; use at least {MIN_WIDTH}"
        )
    return width


def _pair(text: str) -> tuple[str, str]:
    try:
        return parse_pair(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.add_argument("--no-color", action="store_true", help="plain text, no colours")
    p.add_argument(
        "--width",
        type=_width,
        default=None,
        help=f"render width, at least {MIN_WIDTH} (default: terminal)",
    )


def _add_pair_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "logdir_a",
        metavar="LOGDIR_A",
        help="log directory, event file, .pb/.pbtxt or SavedModel of run A",
    )
    p.add_argument("logdir_b", metavar="LOGDIR_B", help="the same for run B")
    p.add_argument("--run-a", help="run (sub-directory) to use in A when it holds several")
    p.add_argument("--run-b", help="run (sub-directory) to use in B when it holds several")


def _add_graph_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--graph-source",
        choices=GRAPH_SOURCES,
        default="auto",
        help="which graph record to use (default: the most complete one)",
    )
    p.add_argument(
        "--feed",
        action="append",
        type=_feed,
        default=[],
        metavar="NAME=VALUE",
        help="value fed to a placeholder at run time, e.g. --feed Placeholder=0.7 (repeatable)",
    )
    p.add_argument(
        "--all", action="store_true", help="everything -v shows, and every node difference"
    )


_VERBOSE_HELP = (
    "the long report: every finding in full with its values, pairing notes, the layer and "
    "hyper-parameter tables (the default fits one 80x50 screen)"
)


def _add_verbose_flag(p: argparse.ArgumentParser, help: str = _VERBOSE_HELP) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help=help)


def _add_tag_pair_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pair",
        action="append",
        type=_pair,
        default=[],
        metavar="A_TAG=B_TAG",
        help="force pairing of two tags (repeatable)",
    )


def _add_export_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--html", metavar="FILE", help="also write the report as HTML")
    p.add_argument("--svg", metavar="FILE", help="also write the report as SVG")


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {n}")
    return n


def _add_runs_parser(sub) -> None:
    p = sub.add_parser(
        "runs",
        help="many runs at once: model groups, seed-noise floor, outliers, what drives the metric",
    )
    p.add_argument(
        "roots", metavar="ROOT", nargs="+", help="log folder or fsspec URL (s3://bucket/exp ...)"
    )
    p.add_argument("--metric", metavar="TAG", help="primary metric tag (default: chosen)")
    p.add_argument(
        "--baseline",
        metavar="RUN",
        help="run to explain others against (default: best run of the largest model group)",
    )
    p.add_argument(
        "--jobs", type=_jobs, default=None, help="local reading processes (default: CPU count)"
    )
    p.add_argument(
        "--dask", metavar="ADDRESS", help="read and analyse on this Dask scheduler (tcp://...)"
    )
    p.add_argument("--no-crc", action="store_true", help="skip CRC checks (faster, less safe)")
    _add_output_flags(p)
    p.add_argument("--html", metavar="FILE", help="also write the report as HTML")


def _add_export_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write every scalar of a log folder as one long table (CSV or parquet)"
    )
    p.add_argument("logdir", metavar="LOGDIR", help="log folder, run, event file or fsspec URL")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", metavar="FILE", help="write CSV here ('-' for stdout)")
    out.add_argument("--parquet", metavar="FILE", help="write parquet here (needs pyarrow)")
    p.add_argument("--run", help="only this run (and its parts, e.g. train/validation)")
    p.add_argument(
        "--tag",
        action="append",
        default=None,
        metavar="TAG",
        help="only this tag, exact name (repeatable)",
    )
    p.add_argument("--no-crc", action="store_true", help="skip CRC checks (faster, less safe)")


def _add_train_parser(sub) -> None:
    p = sub.add_parser(
        "train-and-compare",
        help="train the raw-TF and Keras MNIST MLPs (the seed case) and diagnose the difference",
    )
    p.add_argument(
        "--logdir",
        default="runs",
        help="parent folder; each invocation makes a new timestamped folder",
    )
    p.add_argument("--epochs", type=int, default=30, help="training epochs per model (30)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST IDX files or mnist.npz (also TBDIFF_DATA_DIR)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the first repetition (weights, batch order)"
    )
    p.add_argument(
        "--seeds", type=int, default=1, help="repeat both models N times, report mean ± std"
    )
    p.add_argument(
        "--keras-dropout-rate",
        type=float,
        default=None,
        help="rate passed to keras Dropout (default: the keep_prob, as the original did)",
    )
    p.add_argument(
        "--keep-prob",
        type=float,
        default=0.7,
        help="keep_prob fed to tf.nn.dropout (and the original Keras rate)",
    )
    p.add_argument(
        "--fix", action="store_true", help="use Keras rate = 1 - keep_prob, to verify the diagnosis"
    )
    p.add_argument(
        "--limit-train",
        type=int,
        default=None,
        help="use only the first N training images (quick runs)",
    )
    p.add_argument(
        "--only",
        choices=["tensorflow", "keras"],
        default=None,
        help="train only one of the two models",
    )
    p.add_argument(
        "--ablate",
        action="store_true",
        help="also train variants that each remove one difference, in both directions, "
        "and measure the share of the gap each explains",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="with --ablate: continue (or join) the study in RUN_DIR; its settings are reused",
    )
    p.add_argument(
        "--nondeterministic",
        action="store_true",
        help="TensorFlow's default thread pools, op determinism off (3-4%% faster "
        "here; results then depend on the number of cores)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="the long report, and TensorFlow's own log lines (C++/absl, oneDNN, CUDA probing) "
        "that are silenced by default",
    )
    _add_output_flags(p)
    _add_export_flags(p)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; `app` functions receive the parsed namespace."""
    parser = Parser(
        prog="tbdiff",
        description="Explain why two TensorBoard runs of 'the same' model behave differently.",
        epilog="Exit codes, like diff: 0 no critical or warning difference, 1 a difference "
        "(the report says which rule applied), 2 bad input (one line on stderr), 130 "
        "interrupted. 'tbdiff COMMAND --help' for each command.",
    )
    parser.add_argument("--version", action="version", version=f"tbdiff {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("inspect", help="list the runs, scalars and graphs in a log directory")
    p.add_argument(
        "logdir",
        metavar="LOGDIR",
        help="log directory, event file, .pb/.pbtxt or SavedModel",
    )
    _add_output_flags(p)
    p.add_argument("--no-crc", action="store_true", help="skip CRC checks (faster, less safe)")
    p.add_argument(
        "--no-model",
        action="store_true",
        help="do not analyse the graphs (skip the dropout/optimizer/layers summary)",
    )

    p = sub.add_parser("graphs", help="compare the graphs of two runs and explain the differences")
    _add_pair_flags(p)
    _add_graph_flags(p)
    _add_verbose_flag(p)
    _add_output_flags(p)
    _add_export_flags(p)

    p = sub.add_parser("scalars", help="compare the scalar curves of two runs")
    _add_pair_flags(p)
    _add_tag_pair_flag(p)
    _add_verbose_flag(
        p,
        "the long report: how each pair of curves was matched, and every differing hyper-parameter",
    )
    _add_output_flags(p)
    _add_export_flags(p)

    p = sub.add_parser("compare", help="graphs + scalars + hparams in one report")
    _add_pair_flags(p)
    _add_graph_flags(p)
    _add_tag_pair_flag(p)
    _add_verbose_flag(p)
    _add_output_flags(p)
    _add_export_flags(p)

    _add_runs_parser(sub)
    _add_export_parser(sub)
    _add_train_parser(sub)
    parser.commands = dict(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tbdiff` script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    from tbdiff import app

    return app.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
