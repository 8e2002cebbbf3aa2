"""Resumable, verified downloads of the phone-side tools (``http(s)://`` or ``file://``).

Why not ``urlretrieve``: a runner binary is several MB fetched over lab Wi-Fi, so a cut
connection must not mean starting again, and a file that is not the published one must never
reach a phone. The bytes go to ``<target>.part`` (appended to on the next try: an HTTP ``Range``
request, or a seek for ``file://``), and only a file whose checksum matches is renamed onto the
target; a mismatch removes the ``.part`` and is refused. The ``.part`` of an interrupted download
is the one thing deliberately kept on disk: it is what the next run resumes from.

The checksum is the pinned sha256 when one is known, else the publisher's own: Google Cloud
Storage (where TFLite publishes its nightly ``benchmark_model``) sends the object's MD5 in the
``x-goog-hash`` header; it is kept beside the ``.part`` so a resumed download checks the same one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from edgeseg.benchmarks.base import BenchError
from edgeseg.progress import progress_bar

CHUNK = 256 * 1024
TIMEOUT_S = 60.0


class DownloadError(BenchError):
    """A runner download that failed, was cut, or did not match its checksum."""


@dataclass(frozen=True)
class Fetched:
    """A verified file in place: how it was checked and how much of it this call read."""

    path: Path
    sha256: str
    size: int
    verified_by: str  # "sha256 (pinned)" | "sha256 (mirror SHA256SUMS)" | "md5 (x-goog-hash)"
    resumed_from: int  # bytes already in the .part when this call started


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(url: str, offset: int):
    """(stream, total size or None, publisher md5 or None, offset actually honoured)."""
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        try:
            fh = open(path, "rb")  # noqa: SIM115  (closed by the caller)
        except OSError as exc:
            raise DownloadError(f"{url}: cannot read ({exc.strerror})") from exc
        size = os.fstat(fh.fileno()).st_size
        offset = min(offset, size)
        fh.seek(offset)
        return fh, size, None, offset
    request = urllib.request.Request(url, headers={"User-Agent": "edgeseg"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 (http/file)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # the .part already holds the whole file
            return _Empty(), offset, None, offset
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"{url}: cannot connect ({reason}); offline? use `edgeseg devices --setup "
            "--runners-from DIR|file://URL` with a mirror"
        ) from exc
    if response.status != 206:  # the server ignored Range: start again from zero
        offset = 0
    length = response.headers.get("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    return response, total, _goog_md5(response.headers.get_all("x-goog-hash") or []), offset


class _Empty:
    def read(self, _size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


def _goog_md5(values: list[str]) -> str | None:
    """``x-goog-hash: crc32c=…, md5=<base64>`` → the MD5 in hex."""
    for value in values:
        match = re.search(r"md5=([A-Za-z0-9+/=]+)", value)
        if match:
            return base64.b64decode(match.group(1)).hex()
    return None


def fetch(
    url: str, target: Path, sha256: str | None, source: str = "pinned", progress: bool = True
) -> Fetched:
    """Download ``url`` to ``target`` (resuming a ``.part``), verified, made executable."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part, meta = part_path(target), target.with_name(target.name + ".part.meta")
    offset = part.stat().st_size if part.is_file() else 0
    stream, total, md5, offset = _open(url, offset)
    if md5 is None and offset and meta.is_file():
        md5 = json.loads(meta.read_text()).get("md5")  # the header of the first, cut, try
    if sha256 is None and md5 is None:
        stream.close()
        raise DownloadError(
            f"{url}: no pinned sha256 and the server sends no checksum, so the download cannot "
            "be verified; use --runners-from a mirror with a SHA256SUMS file"
        )
    if md5 is not None:
        meta.write_text(json.dumps({"url": url, "md5": md5}))
    try:
        _copy(stream, part, offset, total, target.name, progress)
    finally:
        stream.close()
    return _verify(url, target, part, meta, sha256, source, md5, offset)


def _copy(stream, part: Path, offset: int, total: int | None, name: str, progress: bool) -> None:
    done = offset
    with (
        open(part, "r+b" if offset else "wb") as out,
        progress_bar(progress and sys.stderr.isatty()) as bar,
    ):
        out.seek(offset)
        out.truncate()
        task = bar.add_task(f"download {name}", total=total, completed=offset, info="")
        while True:
            try:
                block = stream.read(CHUNK)
            except (OSError, ValueError) as exc:  # a cut connection: keep the .part
                raise DownloadError(
                    f"download of {name} cut at {done} of {total or '?'} bytes ({exc}); run the "
                    "same command again to resume"
                ) from exc
            if not block:
                break
            out.write(block)
            done += len(block)
            bar.update(task, completed=done, info=f"{done / 2**20:.1f} MB")
    if total is not None and done != total:
        raise DownloadError(
            f"download of {name} cut at {done} of {total} bytes; run the same command again "
            "to resume"
        )


def _verify(
    url: str,
    target: Path,
    part: Path,
    meta: Path,
    sha256: str | None,
    source: str,
    md5: str | None,
    offset: int,
) -> Fetched:
    """Checksum the whole ``.part``; rename it onto ``target`` only when it matches."""
    actual = file_digest(part)
    if sha256 is not None:
        ok, want, got, by = actual == sha256.lower(), sha256.lower(), actual, f"sha256 ({source})"
    else:
        got = file_digest(part, "md5")
        ok, want, by = got == md5, md5, "md5 (x-goog-hash)"
    if not ok:
        part.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {target.name} from {url}: expected {by.split()[0]} "
            f"{want}, got {got}; the file was removed (a changed upload or a bad mirror)"
        )
    size = part.stat().st_size
    part.chmod(0o755)
    os.replace(part, target)
    meta.unlink(missing_ok=True)
    return Fetched(target, actual, size, by, offset)
