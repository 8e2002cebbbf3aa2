"""A fake Android phone that the real ``adb`` server connects to over loopback TCP.

It speaks the device side of the adb protocol: the CNXN handshake (or AUTH, never accepted, to
show as ``unauthorized``), ``shell,v2`` with separate stdout/stderr and the exit code, and the
``sync:`` service (STAT/STA2/LST2/SEND/RECV/LIST/QUIT) for push and pull. Device paths live under
a host temp directory; commands run in :class:`~.shell.FakeShell`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .shell import FakeShell
from .wire import (
    AUTH,
    CNXN,
    MAX_PAYLOAD,
    OPEN,
    VERSION,
    Connection,
    Message,
    Stream,
    StreamClosed,
    read_message,
)

PIXEL_8 = {
    "ro.product.model": "Pixel 8",
    "ro.product.device": "shiba",
    "ro.product.name": "shiba",
    "ro.product.manufacturer": "Google",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.soc.manufacturer": "Google",
    "ro.soc.model": "Tensor G3",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
}
FEATURES = "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir"
STAT_V2 = struct.Struct("<IQQIIIIQqqq")  # error dev ino mode nlink uid gid size a/m/ctime


@dataclass
class Behaviour:
    """Knobs a test turns to make the phone misbehave the way real phones do."""

    battery_tenths_c: list[int] = field(default_factory=lambda: [312])  # one value per read
    vanish_in: str | None = None  # tool name: the phone disappears while it runs
    tool_timeout_s: float = 120.0
    app_installed: bool = True  # the edgeseg demo app (``pm path dev.edgeseg.demo``)
    app_port: str = "faithful"  # its bench mode: faithful | bgr | crash | hang (bench_app.py)
    # the app's versionName (``dumpsys package``): a build of android_demo names its runtimes
    app_version_name: str = "0.1.0 (litert 1.4.2; executorch 1.0.1; onnxruntime 1.22.0)"
    free_kb: int = 51_037_636  # ``df -k /data/local/tmp``: available 1K blocks
    thermal_status: int = 0  # ``dumpsys thermalservice``: 0 none … 6 shutdown
    tool_delay_s: float = 0.0  # each runner-tool run takes this much longer (parallel tests)


class FakeDevice:
    """One fake phone on ``127.0.0.1:<random port>``; ``serial`` is what ``adb connect`` lists."""

    def __init__(self, root: Path, props: dict[str, str] | None = None, authorize: bool = True):
        self.root = Path(root)
        self.props = dict(PIXEL_8 if props is None else props)
        self.authorize = authorize
        self.behaviour = Behaviour()
        self.commands: list[str] = []  # every shell command, in order (tests assert on them)
        self.errors: list[str] = []  # exceptions inside the fake itself (should stay empty)
        self.shell = FakeShell(self)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._alive = True
        for sub in ("data/local/tmp", "sys/class/thermal/thermal_zone0"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "sys/class/thermal/thermal_zone0/temp").write_text("38500\n")
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.port}"

    def host_path(self, device_path: str) -> Path:
        """Map an absolute device path into the temp root (no escaping it with '..')."""
        parts = [p for p in Path(device_path).parts if p not in ("/", "..", ".")]
        return self.root.joinpath(*parts)

    def vanish(self) -> None:
        """Unplug: stop listening and drop every connection, as a phone on a pulled cable."""
        self._alive = False
        self.shell.apps.stop_all()
        with contextlib.suppress(OSError):  # shutdown first: close() alone leaves accept() up
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()

    # --- transport -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while self._alive:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            if not self._alive:
                sock.close()
                return
            self._conns.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _banner(self) -> bytes:
        keys = ("ro.product.name", "ro.product.model", "ro.product.device")
        props = ";".join(f"{k}={self.props.get(k, '')}" for k in keys)
        return f"device::{props};features={FEATURES}".encode()

    def _serve(self, sock: socket.socket) -> None:
        conn = Connection(sock)
        try:
            while True:
                message = read_message(sock)
                if message.command == CNXN:
                    conn.max_payload = min(message.arg1 or MAX_PAYLOAD, MAX_PAYLOAD)
                    self._handshake(conn)
                elif message.command == AUTH and message.arg0 == 2:  # SIGNATURE: never valid
                    conn.send(Message(AUTH, 1, 0, os.urandom(20)))
                elif message.command == OPEN and self.authorize:
                    self._open(conn, message)
                else:
                    conn.route(message)
        except (ConnectionError, OSError):
            conn.close_all()

    def _handshake(self, conn: Connection) -> None:
        if self.authorize:
            conn.send(Message(CNXN, VERSION, conn.max_payload, self._banner()))
        else:
            conn.send(Message(AUTH, 1, 0, os.urandom(20)))  # TOKEN; RSAPUBLICKEY is ignored

    def _open(self, conn: Connection, message: Message) -> None:
        service = message.data.rstrip(b"\0").decode()
        stream = conn.open_stream(message.arg0)
        if service.startswith("shell,v2") or service.startswith("shell:"):
            target, args = self._shell_v2, (stream, service.split(":", 1)[1])
        elif service == "sync:":
            target, args = self._sync, (stream,)
        elif service.startswith(("exec:cmd package", "exec:pm")) and "install" in service:
            target, args = self._install, (stream, service)
        else:
            stream.close()
            return
        threading.Thread(target=self._run_service, args=(target, stream, args), daemon=True).start()

    def _run_service(self, target, stream: Stream, args: tuple) -> None:
        try:
            target(*args)
        except (StreamClosed, OSError, TimeoutError):
            pass
        except Exception as exc:  # a bug in the fake: keep it for the test to show
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            stream.close()

    # --- shell,v2 --------------------------------------------------------------------------
    def _shell_v2(self, stream: Stream, command: str) -> None:
        self.commands.append(command)
        out, err, code = self.shell.run(command)
        if not self._alive:
            return
        for packet_id, data in ((1, out), (2, err)):
            if data:
                stream.write(struct.pack("<BI", packet_id, len(data)) + data)
        stream.write(struct.pack("<BIB", 3, 1, code & 0xFF))

    def _install(self, stream: Stream, service: str) -> None:
        """``adb install`` (streamed): ``exec:cmd package 'install' [-r] -S SIZE`` + the APK."""
        words = service.split()
        size = int(words[words.index("-S") + 1])
        stream.write(self.shell.apps.install(stream.read_exact(size)))

    # --- sync: -----------------------------------------------------------------------------
    def _sync(self, stream: Stream) -> None:
        while True:
            request, length = struct.unpack("<4sI", stream.read_exact(8))
            if request == b"QUIT":
                return
            if request == b"SEND":
                self._sync_send(stream, stream.read_exact(length).decode())
                continue
            path = self.host_path(stream.read_exact(length).decode())
            if request == b"STAT":
                st = path.stat() if path.exists() else None
                fields = (st.st_mode, st.st_size, int(st.st_mtime)) if st else (0, 0, 0)
                stream.write(b"STAT" + struct.pack("<3I", *fields))
            elif request in (b"STA2", b"LST2"):
                stream.write(request + self._stat_v2(path))
            elif request == b"RECV":
                self._sync_recv(stream, path)
            elif request == b"LIST":
                self._sync_list(stream, path)
            elif request == b"LIS2":
                self._sync_list_v2(stream, path)
            else:
                self._fail(stream, f"unsupported sync request {request!r}")

    @staticmethod
    def _stat_v2(path: Path) -> bytes:
        if not path.exists():
            return STAT_V2.pack(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)  # ENOENT
        st = path.stat()
        t = int(st.st_mtime)
        return STAT_V2.pack(0, 0, st.st_ino, st.st_mode, 1, 2000, 2000, st.st_size, t, t, t)

    @staticmethod
    def _fail(stream: Stream, text: str) -> None:
        stream.write(b"FAIL" + struct.pack("<I", len(text)) + text.encode())

    def _sync_send(self, stream: Stream, spec: str) -> None:
        remote, _, mode = spec.rpartition(",")
        target = self.host_path(remote)
        target.parent.mkdir(parents=True, exist_ok=True)  # feature fixed_push_mkdir
        with open(target, "wb") as fh:
            while True:
                kind, length = struct.unpack("<4sI", stream.read_exact(8))
                if kind == b"DONE":
                    break
                fh.write(stream.read_exact(length))
        target.chmod(int(mode) & 0o777)
        stream.write(b"OKAY" + struct.pack("<I", 0))

    def _sync_recv(self, stream: Stream, path: Path) -> None:
        if not path.is_file():
            self._fail(stream, "No such file or directory")
            return
        data = path.read_bytes()
        for start in range(0, len(data), 64 * 1024):
            chunk = data[start : start + 64 * 1024]
            stream.write(b"DATA" + struct.pack("<I", len(chunk)) + chunk)
        stream.write(b"DONE" + struct.pack("<I", 0))

    def _sync_list(self, stream: Stream, path: Path) -> None:
        for child in sorted(path.iterdir()) if path.is_dir() else []:
            st = child.stat()
            name = child.name.encode()
            head = struct.pack("<4I", st.st_mode, st.st_size, int(st.st_mtime), len(name))
            stream.write(b"DENT" + head + name)
        stream.write(b"DONE" + struct.pack("<4I", 0, 0, 0, 0))

    def _sync_list_v2(self, stream: Stream, path: Path) -> None:
        """LIS2 → one DNT2 (stat v2 + name length + name) per entry, then DONE."""
        for child in sorted(path.iterdir()) if path.is_dir() else []:
            name = child.name.encode()
            stream.write(b"DNT2" + self._stat_v2(child) + struct.pack("<I", len(name)) + name)
        stream.write(b"DONE" + bytes(STAT_V2.size + 4))


def is_executable(path: Path) -> bool:
    return path.is_file() and bool(path.stat().st_mode & stat.S_IXUSR)
