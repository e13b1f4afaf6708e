"""Where log files live: local paths, or object storage through fsspec URLs.

`s3://bucket/exp`, `gs://bucket/exp` (any fsspec protocol) become `RemotePath`s: the few
pathlib methods the readers use (`/`, name, parent, is_file, stat, read_text), backed by the
protocol's fsspec filesystem. Local paths stay `pathlib.Path` and never touch fsspec (it is not
even imported), so reading local logs costs what it did before.

fsspec and the cloud filesystems are optional extras (`pip install 'tbdiff[s3]'` brings s3fs,
`'tbdiff[gcs]'` gcsfs; both pull fsspec in): a URL without them is a TbdiffError naming the
extra. Options for a filesystem (endpoint, credentials ...) come from fsspec's own
configuration: `FSSPEC_S3_ENDPOINT_URL`-style environment variables or `~/.config/fsspec`,
plus the backend's usual ones (`AWS_*` for s3fs); `set_storage_options` is the API hook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import IO, Any

from tbdiff.errors import TbdiffError

_EXTRA = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
_OPTIONS: dict[str, dict[str, Any]] = {}  # protocol -> storage options (set_storage_options)
READ_BLOCK = 8 << 20  # fsspec read-ahead block, the size framing.py reads at a time


def is_url(text: str | os.PathLike) -> bool:
    """True for `proto://...` (but not `file://`, which is a local path)."""
    s = str(text)
    head, sep, _ = s.partition("://")
    return bool(sep) and head.isidentifier() and head.lower() != "file"


def set_storage_options(protocol: str, **options: Any) -> None:
    """Options for every filesystem of `protocol` made from now on (e.g. endpoint_url)."""
    _OPTIONS[protocol] = dict(options)
    _filesystem_cache.clear()


_filesystem_cache: dict[str, Any] = {}


def filesystem(protocol: str):
    """The fsspec filesystem of a protocol; TbdiffError when fsspec or its backend is missing."""
    fs = _filesystem_cache.get(protocol)
    if fs is not None:
        return fs
    extra = _EXTRA.get(protocol, protocol)
    hint = f" (pip install 'tbdiff[{extra}]')" if protocol in _EXTRA else ""
    try:
        import fsspec
    except ImportError:
        raise TbdiffError(f"reading {protocol}:// URLs needs fsspec{hint}") from None
    try:
        fs = fsspec.filesystem(protocol, **_OPTIONS.get(protocol, {}))
    except (ImportError, ValueError) as exc:
        raise TbdiffError(f"cannot open {protocol}:// storage: {exc}{hint}") from None
    _filesystem_cache[protocol] = fs
    return fs


@dataclass(frozen=True)
class RemotePath:
    """A file or folder in object storage: `protocol://key`, with a pathlib-like face."""

    protocol: str
    key: str  # bucket/prefix/..., no leading or trailing slash

    @classmethod
    def parse(cls, url: str) -> RemotePath:
        protocol, _, rest = str(url).partition("://")
        return cls(protocol.lower(), rest.strip("/"))

    def __str__(self) -> str:
        return f"{self.protocol}://{self.key}"

    def __truediv__(self, name: str) -> RemotePath:
        return RemotePath(self.protocol, f"{self.key}/{name}".strip("/"))

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.protocol, str(PurePosixPath(self.key).parent).strip("."))

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.key).suffix

    @property
    def parts(self) -> tuple[str, ...]:
        return (f"{self.protocol}://", *PurePosixPath(self.key).parts)

    def resolve(self) -> RemotePath:
        return self

    def absolute(self) -> RemotePath:
        return self

    @property
    def fs(self):
        return filesystem(self.protocol)

    def exists(self) -> bool:
        return bool(_guard(self, lambda: self.fs.exists(self.key)))

    def is_file(self) -> bool:
        return bool(_guard(self, lambda: self.fs.isfile(self.key)))

    def is_dir(self) -> bool:
        return bool(_guard(self, lambda: self.fs.isdir(self.key)))

    def stat(self) -> SimpleNamespace:
        return SimpleNamespace(st_size=int(_guard(self, lambda: self.fs.size(self.key))))

    def read_text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        data = _guard(self, lambda: self.fs.cat_file(self.key))
        return data.decode(encoding, errors)

    def open_binary(self) -> tuple[IO[bytes], int]:
        f = _guard(self, lambda: self.fs.open(self.key, "rb", block_size=READ_BLOCK))
        return f, int(f.size)

    def find_files(self) -> dict[str, int]:
        """Every file under this prefix: key -> size (one listing call, paginated by fsspec)."""
        found = _guard(self, lambda: self.fs.find(self.key, detail=True))
        return {k.strip("/"): int(v.get("size") or 0) for k, v in found.items()}


def _guard(path: RemotePath, call):
    """Storage errors as OSError (what the readers already report per file), never a traceback
    from deep inside a cloud client."""
    try:
        return call()
    except TbdiffError:
        raise
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - cloud clients raise their own exception types
        raise OSError(f"{path}: {type(exc).__name__}: {exc}") from exc


AnyPath = Path | RemotePath


def as_path(text: str | os.PathLike) -> AnyPath:
    """A RemotePath for a URL, else a local Path (file:// stripped)."""
    s = str(text)
    if is_url(s):
        return RemotePath.parse(s)
    if s.startswith("file://"):
        s = s[len("file://") :]
    return Path(s)


def open_binary(path: AnyPath) -> tuple[IO[bytes], int]:
    """An open binary file and its size (local: open + fstat, as before)."""
    if isinstance(path, RemotePath):
        return path.open_binary()
    f = open(path, "rb")  # noqa: SIM115 - the caller closes it
    try:
        return f, os.fstat(f.fileno()).st_size
    except OSError:
        f.close()
        raise
