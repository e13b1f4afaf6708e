"""MNIST loading (numpy only): IDX parsing/validation, checksums, split, batcher, no-data path.

The IDX files are written here byte by byte from the format definition (big-endian magic,
dimensions, uint8 payload), so the loader is tested against the format, not against itself.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import MNIST_DIR

from tbdiff.errors import DataUnavailableError, TbdiffError
from tbdiff.experiment import mnist
from tbdiff.experiment.mnist import (
    FILES,
    OFFICIAL_MD5,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    Batcher,
    DataSet,
    download,
    load_folder,
    load_mnist,
    load_npz,
)

REAL_DATA = MNIST_DIR


def idx_bytes(arr: np.ndarray) -> bytes:
    magic = 2051 if arr.ndim == 3 else 2049
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def write_set(folder: Path, n_train: int = 60, n_test: int = 20, *, gz: bool = True, seed: int = 1):
    """Four small IDX files; returns the arrays written."""
    rng = np.random.RandomState(seed)
    arrays = {
        TRAIN_IMAGES: rng.randint(0, 256, size=(n_train, 28, 28)),
        TRAIN_LABELS: rng.randint(0, 10, size=n_train),
        TEST_IMAGES: rng.randint(0, 256, size=(n_test, 28, 28)),
        TEST_LABELS: rng.randint(0, 10, size=n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, arr in arrays.items():
        raw = idx_bytes(arr)
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_load_folder_split_scaling_onehot(tmp_path: Path, gz: bool) -> None:
    arrays = write_set(tmp_path, gz=gz)
    data = load_folder(tmp_path, validation_size=10)
    assert data.train.images.shape == (50, 784) and data.validation.images.shape == (10, 784)
    assert data.test.images.shape == (20, 784)
    assert data.train.images.dtype == np.float32
    # validation = the first 10 training images, train = the rest (read_data_sets order)
    expect_val = arrays[TRAIN_IMAGES][:10].reshape(10, -1) / 255.0
    np.testing.assert_allclose(data.validation.images, expect_val, rtol=1e-6)
    np.testing.assert_allclose(
        data.train.images[-1], arrays[TRAIN_IMAGES][-1].reshape(-1) / 255.0, rtol=1e-6
    )
    assert 0.0 <= data.train.images.min() and data.train.images.max() <= 1.0
    assert (data.test.labels.sum(axis=1) == 1).all()
    assert (data.test.labels.argmax(axis=1) == arrays[TEST_LABELS]).all()
    assert (data.train.labels.argmax(axis=1) == arrays[TRAIN_LABELS][10:]).all()


def test_alternative_file_names(tmp_path: Path) -> None:
    write_set(tmp_path, gz=False)
    for stem in FILES:  # train-images-idx3-ubyte -> train-images.idx3-ubyte
        (tmp_path / stem).rename(tmp_path / stem.replace("-idx", ".idx"))
    assert load_folder(tmp_path, validation_size=5).test.num_examples == 20


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    write_set(tmp_path, gz=False)
    p = tmp_path / TRAIN_IMAGES
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(TbdiffError, match="truncated or corrupt"):
        load_folder(tmp_path, validation_size=5)


def test_bad_magic_and_corrupt_gzip(tmp_path: Path) -> None:
    write_set(tmp_path, gz=True)
    raw = gzip.decompress((tmp_path / (TEST_LABELS + ".gz")).read_bytes())
    (tmp_path / (TEST_LABELS + ".gz")).write_bytes(gzip.compress(b"\x00\x00\x08\x03" + raw[4:]))
    with pytest.raises(TbdiffError, match="magic"):
        load_folder(tmp_path, validation_size=5)
    (tmp_path / (TEST_LABELS + ".gz")).write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(TbdiffError, match="cannot read MNIST file"):
        load_folder(tmp_path, validation_size=5)


def test_checksum_verification(tmp_path: Path) -> None:
    write_set(tmp_path, gz=True)
    good = {
        stem: hashlib.md5(gzip.decompress((tmp_path / (stem + ".gz")).read_bytes())).hexdigest()
        for stem in FILES
    }
    assert load_folder(tmp_path, validation_size=5, checksums=good).train.num_examples == 55
    bad = dict(good, **{TRAIN_LABELS: "0" * 32})
    with pytest.raises(TbdiffError, match="not the official"):
        load_folder(tmp_path, validation_size=5, checksums=bad)


def test_label_count_mismatch(tmp_path: Path) -> None:
    write_set(tmp_path, gz=False)
    (tmp_path / TEST_LABELS).write_bytes(idx_bytes(np.zeros(19, dtype=np.uint8)))
    with pytest.raises(TbdiffError, match="20 images but 19 labels"):
        load_folder(tmp_path, validation_size=5)


def test_npz(tmp_path: Path) -> None:
    rng = np.random.RandomState(0)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.randint(0, 256, (30, 28, 28)).astype(np.uint8),
        y_train=rng.randint(0, 10, 30).astype(np.uint8),
        x_test=rng.randint(0, 256, (8, 28, 28)).astype(np.uint8),
        y_test=rng.randint(0, 10, 8).astype(np.uint8),
    )
    data = load_mnist(tmp_path / "mnist.npz", validation_size=5)
    assert (data.train.num_examples, data.validation.num_examples) == (25, 5)
    assert load_folder(tmp_path, validation_size=5).test.num_examples == 8
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(TbdiffError, match="mnist.npz"):
        load_npz(tmp_path / "bad.npz")


def test_batcher_covers_each_epoch_and_reshuffles() -> None:
    n = 50
    data = DataSet(np.arange(n, dtype=np.float32)[:, None], np.zeros((n, 10), np.float32))
    b = Batcher(data, seed=3)
    epochs = [np.concatenate([b.next_batch(10)[0][:, 0] for _ in range(5)]) for _ in range(3)]
    for e in epochs:
        assert sorted(e.tolist()) == list(range(n))  # every example once per epoch
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled between epochs
    assert not np.array_equal(epochs[0], np.arange(n))  # shuffled before the first batch
    # a batch crossing the epoch end takes the rest of this epoch, then starts the next
    b2 = Batcher(data, seed=3)
    first = [b2.next_batch(15)[0][:, 0] for _ in range(4)]  # 60 > 50
    assert sorted(np.concatenate(first)[:n].tolist()) == list(range(n))


def test_download_from_mirror_with_verification(tmp_path: Path) -> None:
    """The real download code path, against a local file:// mirror (never the network)."""
    mirror = tmp_path / "mirror"
    write_set(mirror, gz=True)
    good = {
        s: hashlib.md5(gzip.decompress((mirror / (s + ".gz")).read_bytes())).hexdigest()
        for s in FILES
    }
    dest = download(tmp_path / "cache", mirrors=[mirror.as_uri() + "/"], checksums=good)
    assert load_folder(dest, validation_size=5, checksums=good).test.num_examples == 20
    bad = dict(good, **{TEST_IMAGES: "f" * 32})
    with pytest.raises(DataUnavailableError, match="checksum mismatch"):
        download(tmp_path / "cache2", mirrors=[mirror.as_uri() + "/"], checksums=bad)
    assert not (tmp_path / "cache2" / (TEST_IMAGES + ".gz")).exists()  # nothing half-kept


def test_offline_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TBDIFF_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("TBDIFF_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as info:
        load_mnist(None)
    assert "--data-dir" in str(info.value) and "TBDIFF_DATA_DIR" in str(info.value)
    assert mnist.cache_dir() == tmp_path / "tbdiff" / "mnist"


def _cli(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TBDIFF_DATA_DIR"}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "tbdiff", "train-and-compare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_no_data_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "TBDIFF_OFFLINE": "1"}
    proc = _cli(["--logdir", str(tmp_path / "runs")], env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--data-dir" in lines[0] and "TBDIFF_DATA_DIR" in lines[0]
    assert "Traceback" not in proc.stderr
    proc = _cli(["--data-dir", str(tmp_path / "nowhere"), "--logdir", str(tmp_path / "runs")], env)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert not (tmp_path / "runs").exists()  # nothing created before the data is there


@pytest.mark.shared("mnist")
def test_real_files_match_official_checksums() -> None:
    for stem in FILES:
        path = mnist.find_idx_file(REAL_DATA, stem)
        assert path is not None
        with gzip.open(path) if path.suffix == ".gz" else open(path, "rb") as fh:
            assert hashlib.md5(fh.read()).hexdigest() == OFFICIAL_MD5[stem]
    data = load_mnist(REAL_DATA)
    assert (data.train.num_examples, data.validation.num_examples, data.test.num_examples) == (
        55000,
        5000,
        10000,
    )
