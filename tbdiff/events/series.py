"""Growing scalar columns for one tag, turned into a ScalarSeries at the end of a run."""

from __future__ import annotations

import numpy as np

from tbdiff.events.model import ScalarSeries


class Series:
    """Growing columns for one tag; numpy blocks from the fast path, lists from the slow one."""

    __slots__ = ("blocks", "order", "steps", "values", "walls", "encodings")

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.order: list[int] = []
        self.steps: list[int] = []
        self.values: list[float] = []
        self.walls: list[float] = []
        self.encodings: set[str] = set()

    def flush(self) -> None:
        if self.order:
            self.blocks.append(
                (
                    np.asarray(self.order, np.int64),
                    np.asarray(self.steps, np.int64),
                    np.asarray(self.values, np.float64),
                    np.asarray(self.walls, np.float64),
                )
            )
            self.order, self.steps, self.values, self.walls = [], [], [], []

    def finish(self, tag: str) -> ScalarSeries:
        self.flush()
        order = np.concatenate([b[0] for b in self.blocks])
        steps = np.concatenate([b[1] for b in self.blocks])
        values = np.concatenate([b[2] for b in self.blocks])
        walls = np.concatenate([b[3] for b in self.blocks])
        idx = np.lexsort((order, steps))
        enc = next(iter(self.encodings)) if len(self.encodings) == 1 else "mixed"
        return ScalarSeries(tag, steps[idx], values[idx], walls[idx], enc)
