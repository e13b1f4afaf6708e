"""MNIST loading without TensorFlow: IDX files (gzip or raw) or a Keras ``mnist.npz``.

The seed case used ``tensorflow.contrib.learn ... read_data_sets``, which no longer exists.
This module reproduces what it did (55,000 train / 5,000 validation / 10,000 test, pixels
scaled to [0, 1] float32, one-hot labels, a reshuffling mini-batcher) with numpy only, so
the data path can be tested without importing TensorFlow.

Files are validated (magic number, dimensions, sizes) and, when they are the standard
files, checked against the published checksums: a silently truncated or altered MNIST
file would otherwise show up as a mysterious accuracy difference, which is exactly the
kind of confusion tbdiff is meant to remove.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tbdiff.errors import DataUnavailableError, TbdiffError

#: canonical file stems (without ``.gz``) of the four standard IDX files
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: md5 of the *uncompressed* standard IDX files. Checking the decompressed bytes (not the
#: .gz) makes the check independent of how a mirror happened to gzip the file.
OFFICIAL_MD5: dict[str, str] = {
    TRAIN_IMAGES: "6bbc9ace898e44ae57da46a324031adb",
    TRAIN_LABELS: "a25bea736e30d166cdddb491f175f624",
    TEST_IMAGES: "2646ac647ad5339dbf082846283269ea",
    TEST_LABELS: "27ae3e4e09519cfbb04c329615203637",
}

#: md5 of .gz files known to hold the standard content (informational; the check above is
#: the authoritative one). The train-images .gz exists in two byte-different compressions.
KNOWN_GZ_MD5: dict[str, tuple[str, ...]] = {
    TRAIN_IMAGES: ("c7dfcf1bfd3481a40f7b3aedbdbd083c", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    TRAIN_LABELS: ("d53e105ee54ea40749a09fcbcd1e9432",),
    TEST_IMAGES: ("9fb629c4189551a2d022fa330f9573f3",),
    TEST_LABELS: ("ec29112dd5afa0611ce80d1b7f02629c",),
}

#: public mirrors, tried in order (the original yann.lecun.com host is no longer reliable)
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

N_VALIDATION = 5000  # read_data_sets' default validation_size
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049

_HELP = (
    "pass --data-dir DIR (or set TBDIFF_DATA_DIR) to a folder with the four MNIST IDX files "
    "(train-images-idx3-ubyte[.gz] ...) or mnist.npz"
)


@dataclass
class DataSet:
    """Images (N, 784) float32 in [0, 1] and one-hot labels (N, 10) float32."""

    images: np.ndarray
    labels: np.ndarray

    @property
    def num_examples(self) -> int:
        return int(self.images.shape[0])


@dataclass
class Mnist:
    train: DataSet
    validation: DataSet
    test: DataSet
    source: str  # where the data came from (folder or file), for the run's README/JSON


class Batcher:
    """Mini-batches like the old ``DataSet.next_batch``: shuffle at the start of every epoch.

    The old implementation shuffled once before the first batch and again whenever the
    data was exhausted, gluing the remainder of one epoch to the start of the next; with
    55,000 images and batch 100 there is never a remainder, but it is kept for any size.
    """

    def __init__(self, data: DataSet, seed: int | None = None, shuffle: bool = True) -> None:
        self.data = data
        self.rng = np.random.RandomState(seed)
        self.shuffle = shuffle
        self._order = np.arange(data.num_examples)
        self._pos = 0
        self._epochs_completed = 0
        self._started = False

    def _reshuffle(self) -> None:
        if self.shuffle:
            self._order = self.rng.permutation(self.data.num_examples)

    def next_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        n = self.data.num_examples
        if not self._started:
            self._started = True
            self._reshuffle()
        if self._pos + batch_size > n:
            rest = self._order[self._pos :]
            self._epochs_completed += 1
            self._reshuffle()
            take = batch_size - rest.size
            idx = np.concatenate([rest, self._order[:take]])
            self._pos = take
        else:
            idx = self._order[self._pos : self._pos + batch_size]
            self._pos += batch_size
        return self.data.images[idx], self.data.labels[idx]


# ----------------------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise TbdiffError(f"cannot read MNIST file {path}: {exc}") from None


def parse_idx(raw: bytes, *, expect_magic: int, name: str = "IDX data") -> np.ndarray:
    """Decode an IDX byte string (big-endian header, uint8 payload) after validating it."""
    if len(raw) < 8:
        raise TbdiffError(f"{name}: truncated IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expect_magic:
        raise TbdiffError(f"{name}: bad IDX magic number {magic} (expected {expect_magic})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise TbdiffError(f"{name}: truncated IDX header")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if expect_magic == _IMAGE_MAGIC and (ndim != 3 or dims[1:] != [28, 28]):
        raise TbdiffError(f"{name}: expected N x 28 x 28 images, header says {dims}")
    expected = int(np.prod(dims)) + header
    if len(raw) != expected:
        raise TbdiffError(
            f"{name}: size {len(raw)} bytes does not match its header {dims} "
            f"({expected} bytes); the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """Accept both name forms: ``train-images-idx3-ubyte`` and ``train-images.idx3-ubyte``."""
    alt = stem.replace("-idx", ".idx")
    for name in (stem + ".gz", stem, alt + ".gz", alt):
        p = folder / name
        if p.is_file():
            return p
    return None


def load_idx_file(path: Path, stem: str, checksums: Mapping[str, str] | None = None) -> np.ndarray:
    """Read, checksum (when ``stem`` is in ``checksums``) and validate one IDX file."""
    raw = _read_bytes(path)
    magic = _IMAGE_MAGIC if "images" in stem else _LABEL_MAGIC
    arr = parse_idx(raw, expect_magic=magic, name=str(path))
    if checksums is None:
        # The official checksums apply to files of the standard size only: a deliberately
        # small or custom file set is validated structurally, not against them.
        standard = arr.shape[0] == (10000 if stem.startswith("t10k") else 60000)
        want = OFFICIAL_MD5.get(stem) if standard else None
    else:
        want = checksums.get(stem)
    if want is not None:
        got = hashlib.md5(raw).hexdigest()
        if got != want:
            raise TbdiffError(
                f"{path}: md5 {got} of the uncompressed data is not the official {want}; "
                "the file is corrupt or not the standard MNIST file"
            )
    return arr


def _to_dataset(images: np.ndarray, labels: np.ndarray, name: str) -> DataSet:
    if images.shape[0] != labels.shape[0]:
        raise TbdiffError(f"{name}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and int(labels.max()) > 9:
        raise TbdiffError(f"{name}: label value {int(labels.max())} is not a digit")
    x = images.reshape(images.shape[0], -1).astype(np.float32) * np.float32(1.0 / 255.0)
    y = np.zeros((labels.shape[0], 10), dtype=np.float32)
    y[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1.0
    return DataSet(x, y)


def _split(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    source: str,
    validation_size: int,
) -> Mnist:
    if not 0 <= validation_size < train_x.shape[0]:
        raise TbdiffError(
            f"validation size {validation_size} does not fit {train_x.shape[0]} training images"
        )
    train = _to_dataset(train_x, train_y, "train")
    test = _to_dataset(test_x, test_y, "test")
    v = validation_size
    return Mnist(
        train=DataSet(train.images[v:], train.labels[v:]),
        validation=DataSet(train.images[:v], train.labels[:v]),
        test=test,
        source=source,
    )


def load_npz(path: Path, validation_size: int = N_VALIDATION) -> Mnist:
    """Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test as uint8)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = [np.asarray(z[k]) for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError, KeyError) as exc:
        raise TbdiffError(f"cannot read {path} as a Keras mnist.npz: {exc}") from None
    tx, ty, vx, vy = arrays
    for arr, nm in ((tx, "x_train"), (vx, "x_test")):
        if arr.ndim != 3 or arr.shape[1:] != (28, 28):
            raise TbdiffError(f"{path}: {nm} has shape {arr.shape}, expected N x 28 x 28")
    return _split(tx, ty, vx, vy, str(path), validation_size)


def load_folder(
    folder: Path,
    *,
    validation_size: int = N_VALIDATION,
    checksums: Mapping[str, str] | None = None,
) -> Mnist:
    """The four IDX files (or ``mnist.npz``) in ``folder``; TbdiffError when incomplete."""
    paths = {stem: find_idx_file(folder, stem) for stem in FILES}
    if all(paths.values()):
        arrays = {
            stem: load_idx_file(p, stem, checksums) for stem, p in paths.items() if p is not None
        }
        return _split(
            arrays[TRAIN_IMAGES],
            arrays[TRAIN_LABELS],
            arrays[TEST_IMAGES],
            arrays[TEST_LABELS],
            str(folder),
            validation_size,
        )
    if (folder / "mnist.npz").is_file():
        return load_npz(folder / "mnist.npz", validation_size)
    missing = ", ".join(s for s, p in paths.items() if p is None)
    raise DataUnavailableError(f"MNIST files missing in {folder} ({missing}); {_HELP}")


# ----------------------------------------------------------------------------- download


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tbdiff" / "mnist"


def offline() -> bool:
    """TBDIFF_OFFLINE=1 disables downloads (tests and air-gapped machines)."""
    return os.environ.get("TBDIFF_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def download(
    dest: Path,
    *,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch the four .gz files into ``dest``, verifying each before it is kept."""
    table = OFFICIAL_MD5 if checksums is None else checksums
    dest.mkdir(parents=True, exist_ok=True)
    for stem in FILES:
        if find_idx_file(dest, stem) is not None:
            continue
        errors: list[str] = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + stem + ".gz"
            fd, tmp_name = tempfile.mkstemp(dir=dest, suffix=".part")
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                    shutil.copyfileobj(r, out)
                with gzip.open(tmp, "rb") as fh:
                    got = hashlib.md5(fh.read()).hexdigest()
                if stem in table and got != table[stem]:
                    raise ValueError(f"checksum mismatch ({got})")
                tmp.replace(dest / (stem + ".gz"))
                break
            except (OSError, ValueError, EOFError) as exc:
                errors.append(f"{url}: {exc}")
            finally:
                tmp.unlink(missing_ok=True)
        else:
            raise DataUnavailableError(
                f"cannot download MNIST {stem} ({'; '.join(errors)[:300]}); {_HELP}"
            )
    return dest


def load_mnist(
    data_dir: str | Path | None = None,
    *,
    validation_size: int = N_VALIDATION,
    checksums: Mapping[str, str] | None = None,
    mirrors: Sequence[str] = MIRRORS,
) -> Mnist:
    """Resolve the data: ``data_dir`` > $TBDIFF_DATA_DIR > user cache > download.

    Raises DataUnavailableError (exit code 2, one line naming --data-dir and
    TBDIFF_DATA_DIR) when nothing is found and downloading is impossible or disabled.
    """
    explicit = data_dir or os.environ.get("TBDIFF_DATA_DIR")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and path.suffix == ".npz":
            return load_npz(path, validation_size)
        if not path.is_dir():
            raise DataUnavailableError(f"MNIST data folder {path} does not exist; {_HELP}")
        return load_folder(path, validation_size=validation_size, checksums=checksums)
    cache = cache_dir()
    if cache.is_dir() and all(find_idx_file(cache, s) for s in FILES):
        return load_folder(cache, validation_size=validation_size, checksums=checksums)
    if offline():
        raise DataUnavailableError(f"no MNIST data and downloads are disabled; {_HELP}")
    download(cache, mirrors=mirrors, checksums=checksums)
    return load_folder(cache, validation_size=validation_size, checksums=checksums)
