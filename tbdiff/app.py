"""Command orchestration: one function per command, wiring the pipeline stages.

Data flows one way: logdir -> events -> graph -> align -> findings -> report -> render.
Every user-facing failure is turned into a one-line message and exit code 2 here, so
no command ever shows a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys

from tbdiff.errors import TbdiffError

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command line; map known errors to a clean exit code 2."""
    handler = {
        "inspect": cmd_inspect,
        "graphs": cmd_graphs,
        "scalars": cmd_scalars,
        "compare": cmd_compare,
        "train-and-compare": cmd_train_and_compare,
    }[args.command]
    try:
        return handler(args)
    except TbdiffError as exc:
        print(f"tbdiff: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tbdiff: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    raise TbdiffError("inspect is not available yet")


def cmd_graphs(args: argparse.Namespace) -> int:
    raise TbdiffError("graphs is not available yet")


def cmd_scalars(args: argparse.Namespace) -> int:
    raise TbdiffError("scalars is not available yet")


def cmd_compare(args: argparse.Namespace) -> int:
    raise TbdiffError("compare is not available yet")


def cmd_train_and_compare(args: argparse.Namespace) -> int:
    raise TbdiffError("train-and-compare is not available yet")
