"""Runner provisioning: ``edgeseg devices --setup`` from a folder, a ``file://`` mirror and a
local HTTP server that cuts the first download (real urllib, real sockets, real adb push)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeseg.benchmarks.adb.provision import PUSH_DIR, read_manifest
from edgeseg.cli import main

TOOL = b"\x7fELF\x02\x01\x01 stand-in for benchmark_model " + bytes(range(256)) * 400


def make_mirror(root: Path, sums: dict[str, str] | None = None) -> Path:
    """``<root>/arm64-v8a/benchmark_model`` + ``SHA256SUMS`` (or the given, wrong, sums)."""
    (root / "arm64-v8a").mkdir(parents=True)
    (root / "arm64-v8a" / "benchmark_model").write_bytes(TOOL)
    digest = hashlib.sha256(TOOL).hexdigest()
    lines = sums or {"arm64-v8a/benchmark_model": digest}
    (root / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in lines.items()))
    return root


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EDGESEG_RUNNERS", str(tmp_path / "cache"))
    monkeypatch.delenv("EDGESEG_RUNNERS_FROM", raising=False)
    return tmp_path / "cache"


def setup_json(capsys, *args: str) -> tuple[int, list[dict] | str]:
    code = main(["devices", "--setup", "--json", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def test_setup_from_a_folder_then_a_file_url(make_device, cache, tmp_path, capsys) -> None:
    phone = make_device()
    mirror = make_mirror(tmp_path / "mirror")
    code, rows = setup_json(capsys, "--device", phone.serial, "--runners-from", str(mirror))
    assert code == 0, rows
    (row,) = rows
    digest = hashlib.sha256(TOOL).hexdigest()
    assert (row["tool"], row["abi"], row["sha256"], row["downloaded"]) == (
        "benchmark_model",
        "arm64-v8a",
        digest,
        True,
    )
    assert row["verified_by"] == "sha256 (mirror SHA256SUMS)"
    cached = cache / "arm64-v8a" / "benchmark_model"
    assert cached.read_bytes() == TOOL and cached.stat().st_mode & 0o111
    entry = read_manifest("arm64-v8a")["benchmark_model"]
    assert entry["sha256"] == digest and entry["version"] == "nightly" and entry["fetched"]
    assert entry["source"] == (mirror / "arm64-v8a" / "benchmark_model").as_uri()
    on_phone = phone.host_path(f"{PUSH_DIR}/benchmark_model")
    assert on_phone.read_bytes() == TOOL
    assert phone.host_path(f"{PUSH_DIR}/benchmark_model.sha256").read_text().strip() == digest
    assert list(cached.parent.glob("*.part*")) == []
    # the same tool through a file:// URL: already verified in the cache, not fetched again
    code, rows = setup_json(capsys, "--device", phone.serial, "--runners-from", mirror.as_uri())
    assert code == 0 and rows[0]["downloaded"] is False and rows[0]["sha256"] == digest
    args = ["--device", phone.serial, "--runners-from", str(mirror)]
    assert main(["devices", "--setup", *args]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if "arm64-v8a" in line)
    assert "already cached" in row and digest[:12] in row and "nightly" in row
    assert f"cache: {cache / 'arm64-v8a'}" in table.replace("\n", "")


def test_bad_checksum_is_refused_and_removed(make_device, cache, tmp_path, capsys) -> None:
    phone = make_device()
    mirror = make_mirror(tmp_path / "mirror", {"arm64-v8a/benchmark_model": "ab" * 32})
    code, err = setup_json(capsys, "--device", phone.serial, "--runners-from", mirror.as_uri())
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "checksum mismatch for benchmark_model" in err and "the file was removed" in err
    assert not (cache / "arm64-v8a").exists() or list((cache / "arm64-v8a").iterdir()) == []
    assert not phone.host_path(PUSH_DIR).exists()


def test_mirror_without_sums_and_unpublished_abi(make_device, cache, tmp_path, capsys) -> None:
    phone = make_device()
    mirror = make_mirror(tmp_path / "mirror")
    (mirror / "SHA256SUMS").unlink()
    code, err = setup_json(capsys, "--device", phone.serial, "--runners-from", str(mirror))
    assert code == 2 and "has no readable SHA256SUMS" in err and "sha256sum */*" in err
    emulator = make_device({**phone.props, "ro.product.cpu.abi": "x86_64"})
    code, err = setup_json(capsys, "--device", emulator.serial)
    assert code == 2 and "publishes no x86_64 Android benchmark_model" in err
    code, err = setup_json(capsys, "--runners-from", str(tmp_path / "nowhere"))
    assert code == 2 and "--runners-from" in err and "no such folder" in err


class CuttingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the mirror with Range support; the first full GET is cut after half the file."""

    cut_once = True
    ranges: list[str | None] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.name != "benchmark_model":
            return super().do_GET()
        data, start = path.read_bytes(), 0
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        if header:
            start = int(header.removeprefix("bytes=").rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if type(self).cut_once and not header:
            type(self).cut_once = False
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)  # the cable is pulled mid-download
            return
        self.wfile.write(data[start:])


@pytest.fixture
def http_mirror(tmp_path) -> Iterator[str]:
    root = make_mirror(tmp_path / "served")
    handler = type("Handler", (CuttingHandler,), {"cut_once": True, "ranges": []})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()


def test_interrupted_download_resumes_with_range(make_device, cache, http_mirror, capsys):
    url, handler = http_mirror
    phone = make_device()
    code, err = setup_json(capsys, "--device", phone.serial, "--runners-from", url)
    assert code == 2 and "cut at" in err and "run the same command again to resume" in err
    part = cache / "arm64-v8a" / "benchmark_model.part"
    assert 0 < part.stat().st_size < len(TOOL)
    kept = part.stat().st_size
    code, rows = setup_json(capsys, "--device", phone.serial, "--runners-from", url)
    assert code == 0, rows
    assert rows[0]["resumed_from"] == kept and handler.ranges == [None, f"bytes={kept}-"]
    assert (cache / "arm64-v8a" / "benchmark_model").read_bytes() == TOOL
    assert not part.exists() and phone.host_path(f"{PUSH_DIR}/benchmark_model").is_file()


def test_file_url_resumes_a_kept_part(make_device, cache, tmp_path, capsys) -> None:
    phone = make_device()
    mirror = make_mirror(tmp_path / "mirror")
    part = cache / "arm64-v8a" / "benchmark_model.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(TOOL[:1000])  # what an interrupted earlier run left
    code, rows = setup_json(capsys, "--device", phone.serial, "--runners-from", mirror.as_uri())
    assert code == 0 and rows[0]["resumed_from"] == 1000
    assert (cache / "arm64-v8a" / "benchmark_model").read_bytes() == TOOL


class GoogHashHandler(http.server.BaseHTTPRequestHandler):
    """Like Cloud Storage: the object's MD5 (base64) in ``x-goog-hash``, or no checksum."""

    md5: str | None = None

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(TOOL)))
        if self.md5:
            self.send_header("x-goog-hash", f"crc32c=AAAAAA==, md5={self.md5}")
        self.end_headers()
        self.wfile.write(TOOL)


@pytest.mark.parametrize("md5", ["good", "bad", None])
def test_publisher_checksum_when_nothing_is_pinned(tmp_path, md5) -> None:
    """The nightly has no pin: the download is checked against the server's MD5, or refused."""
    import base64

    from edgeseg.benchmarks.adb.download import DownloadError, fetch

    real = base64.b64encode(hashlib.md5(TOOL).digest()).decode()
    header = {"good": real, "bad": base64.b64encode(bytes(16)).decode(), None: None}[md5]
    handler = type("H", (GoogHashHandler,), {"md5": header})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/android_aarch64_benchmark_model"
    target = tmp_path / "benchmark_model"
    try:
        if md5 == "good":
            got = fetch(url, target, None, progress=False)
            assert got.verified_by == "md5 (x-goog-hash)" and target.read_bytes() == TOOL
            assert got.sha256 == hashlib.sha256(TOOL).hexdigest()
        else:
            expect = "checksum mismatch" if md5 == "bad" else "server sends no checksum"
            with pytest.raises(DownloadError, match=expect):
                fetch(url, target, None, progress=False)
            assert list(tmp_path.iterdir()) == []
    finally:
        server.shutdown()


def test_setup_flags_are_checked_before_any_phone_is_asked(capsys) -> None:
    assert main(["devices", "--device", "pixel"]) == 2
    assert "--device and --runners-from go with --setup or --check" in capsys.readouterr().err
    assert main(["devices", "--setup", "--device", "host"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --device host: --setup provisions phones, not this machine"
