"""The one way edgeseg writes a file or a folder: atomically, and without leaving debris.

Every writer (checkpoints, sidecars, exported artifacts, reports, the teacher cache, overlays,
the app's model index) goes through :func:`atomic_path`, so the three promises below hold for
all of them at once:

1. **No partial target.** The content is written to a hidden temp next to the target and renamed
   onto it only on success; a failure keeps the old target as it was.
2. **No temp left by an exception or a polite signal.** The temp is removed on any exception.
   While a write is open, SIGTERM and SIGHUP (and SIGINT where Python does not already raise
   :class:`KeyboardInterrupt`) raise :class:`Terminated` — a ``SystemExit`` with the shell's
   code 128+signal — so ``finally`` blocks run and the process still ends as a signalled one
   would. The previous handlers come back when the outermost write ends. A write that a polite
   signal reached never commits, even when its writer caught the exception and finished.
3. **Debris of a ``kill -9`` is recognised later.** A temp's name carries its writer's identity
   (host, boot, PID and the PID's start time): ``.NAME.edgeseg.PID-START.HOST-BOOT.RAND.tmp``
   (folders keep the target's suffix last: tools such as Core ML check it). Before each write,
   the folder's temps whose writer is gone (no such PID, a zombie, a reused PID, an earlier boot)
   are removed with one line on stderr; a live writer's temp, another host's temp (on a shared
   file system its PID means nothing here), another user's and every other file are never
   touched.

Work folders in the system temp dir (:func:`scratch_dir`) follow the same rules, so an export
killed mid-way does not leave its intermediate models in ``/tmp`` for good either.

4. **A full disk is one line.** A write that runs out of space (``ENOSPC``, a quota, a file-size
   limit), or fails while the folder has no space left, becomes an
   :class:`~edgeseg.errors.OutputPathError` "no space left on DIR", with the temp removed. Native
   writers that abort the process when a write fails inside a C++ destructor (``torch.jit.save``
   and ``torch.save`` given a *path*) are handed a Python file instead (:func:`native_file`), so
   the failure is an ``OSError`` here and not a SIGABRT; for those that exit outright (LiteRT's
   LLVM writer) the caller checks the room first (:func:`check_room`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from edgeseg.errors import OutputPathError

_TAG = "edgeseg"
_NAME_MAX = 255
_TEMP = re.compile(
    rf"^\.(?P<name>.+)\.{_TAG}\.(?P<pid>\d+)-(?P<start>\d+)\.(?P<host>[0-9a-f]{{8}})"
    r"-(?P<boot>[0-9a-f]{8})\.[0-9a-f]{8}\.(?P<role>tmp|old)(?P<ext>\.[^.]*)?$"
)


class Terminated(SystemExit):
    """SIGTERM/SIGHUP/SIGINT during a write, as an exception: cleanup runs on the way out, and
    the exit code is 128+signal (143 for SIGTERM), as if the signal had ended the process."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of ``pid`` on Linux; None elsewhere/gone."""
    text = _read(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


_HOST = _short_hash(socket.gethostname())
_BOOT = _short_hash(_read("/proc/sys/kernel/random/boot_id") or "unknown")


def _identity() -> str:
    """This process's part of a temp name: who writes it, so a later run can ask if it lives."""
    stat = _proc_stat(os.getpid())
    return f"{os.getpid()}-{stat[1] if stat else 0}.{_HOST}-{_BOOT}"


def temp_name(target: Path, role: str = "tmp", directory: bool = False) -> Path:
    """A fresh hidden name next to ``target`` that :func:`sweep_stale` can attribute."""
    ext = target.suffix if directory and re.fullmatch(r"\.[^.]*", target.suffix) else ""
    tail = f".{_TAG}.{_identity()}.{secrets.token_hex(4)}.{role}{ext}"
    room = _NAME_MAX - len(os.fsencode(tail)) - 1
    name = os.fsencode(target.name)[:room].decode(errors="ignore") or "x"
    return target.with_name(f".{name}{tail}")


def is_temp(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an edgeseg temp (live or stale) by its name."""
    return _TEMP.match(Path(path).name) is not None


def _writer_gone(match: re.Match) -> bool:
    if match["host"] != _HOST:
        return False  # another machine's writer: its PID cannot be checked from here
    if match["boot"] != _BOOT:
        return True  # written before this machine last booted
    pid = int(match["pid"])
    if pid <= 0:
        return True
    if os.name == "nt":
        return False  # os.kill(pid, 0) would terminate the process there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    stat = _proc_stat(pid)
    if stat is None:
        return False
    state, start = stat
    return state == "Z" or (match["start"] != "0" and start != match["start"])


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _mine(entry: os.DirEntry) -> bool:
    """Owned by this user (a sweep never touches another user's files, e.g. in /tmp)."""
    if not hasattr(os, "getuid"):
        return True
    try:
        return entry.stat(follow_symlinks=False).st_uid == os.getuid()
    except OSError:
        return False  # gone already


def sweep_stale(folder: str | os.PathLike) -> int:
    """Remove ``folder``'s edgeseg temps whose writer is gone; say so in one line on stderr.

    A folder swap interrupted between its two renames left the old target aside as an ``old``
    temp with no target: it is put back instead of removed. Returns how many were cleaned.
    """
    folder = Path(folder)
    try:
        entries = [e.name for e in os.scandir(folder) if f".{_TAG}." in e.name and _mine(e)]
    except OSError:
        return 0
    cleaned, restored = 0, []
    for name in entries:
        match = _TEMP.match(name)
        if match is None or not _writer_gone(match):
            continue
        path = folder / name
        original = folder / match["name"]
        try:
            whole = original.suffix == (match["ext"] or "")  # not a name cut to fit NAME_MAX
            if match["role"] == "old" and whole and not os.path.lexists(original):
                path.rename(original)
                restored.append(original.name)
            else:
                _remove(path)
        except OSError:
            continue  # another sweeper was first, or it is not ours to remove after all
        cleaned += 1
    if cleaned:
        plural = "s" if cleaned != 1 else ""
        note = f" (put back {', '.join(restored)})" if restored else ""
        print(
            f"removed {cleaned} stale temp file{plural} left by an interrupted run in "
            f"{folder}{note}",
            file=sys.stderr,
            flush=True,
        )
    return cleaned


_lock = threading.Lock()
_depth = 0
_saved: dict[int, object] = {}


_received: list[int] = []  # the polite signals this process was sent while writing


def _raise_terminated(signum: int, frame: object) -> None:
    _received.append(signum)
    raise Terminated(signum)


def reraise_if_terminated() -> None:
    """Raise :class:`Terminated` again if a polite signal arrived during the open write.

    A signal handled inside a native callback (e.g. the file writes of ``torch.jit.save``) comes
    back from C++ as an ordinary ``RuntimeError``. Every write scope calls this for an exception
    that leaves it, so such a run still ends with 128+signal, not as one failed target or an
    internal error. A broad ``except Exception`` *inside* a write (a fallback that would go on
    working) calls it too."""
    if _received:
        raise Terminated(_received[-1])


def _signals_to_install() -> list[int]:
    """Signals whose current action would kill the process without running ``finally``: the
    default action (SIG_DFL). Ignored signals, Python's own SIGINT handler (it raises
    KeyboardInterrupt already) and an application's handlers are left as they are."""
    names = ("SIGTERM", "SIGHUP", "SIGINT")
    found = [getattr(signal, n) for n in names if hasattr(signal, n)]
    return [s for s in found if signal.getsignal(s) is signal.SIG_DFL]


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """While the outermost scope is open, polite signals raise :class:`Terminated`. Every write
    opens one; a long run that must tidy up after itself when stopped (a bench's adb clients)
    opens one around its whole work."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; its own writes install them
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _received.clear()
            for signum in _signals_to_install():
                _saved[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    except Exception:  # what native code made of a Terminated raised in its callback
        reraise_if_terminated()
        raise
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for signum, previous in _saved.items():
                    if signal.getsignal(signum) is _raise_terminated:
                        signal.signal(signum, previous)  # type: ignore[arg-type]
                _saved.clear()


def _swap_folder(tmp: Path, target: Path) -> None:
    """Put the folder ``tmp`` in place of ``target``; if the second rename fails, the old target
    goes back, and a crash between the two leaves an ``old`` temp that the next sweep restores."""
    if not (target.exists() or target.is_symlink()):
        tmp.rename(target)
        return
    old = temp_name(target, "old", directory=True)
    target.rename(old)
    try:
        tmp.rename(target)
    except BaseException:
        old.rename(target)
        raise
    _remove(old)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, directory: bool = False) -> Iterator[Path]:
    """Yield a temp path next to ``target``; rename it onto ``target`` only on success.

    For a file the temp exists (empty, mode 0666 less the umask, as ``open`` would make the
    target) when yielded; for ``directory=True`` (an
    artifact that is a folder, such as ``.mlpackage``) it does not, and the writer creates it.
    Stale temps of earlier interrupted runs in the same folder are swept first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent)
    owner = os.getpid()  # a forked child unwinding this frame must not remove the parent's temp
    with signals_raise():
        tmp = temp_name(target, directory=directory)
        try:
            if not directory:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            yield tmp
            reraise_if_terminated()  # a writer that swallowed the signal and went on: no commit
            if directory:
                _swap_folder(tmp, target)
            else:
                os.replace(tmp, target)
        except Exception as exc:
            if _no_space(exc, target.parent):
                raise OutputPathError(no_space_message(target)) from exc
            raise
        finally:
            if os.getpid() == owner:
                _remove(tmp)


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NEARLY_FULL = 64 * 1024  # bytes free under which a failed write is blamed on the disk


def _no_space(exc: BaseException, folder: Path) -> bool:
    """``exc`` (or what caused it) is a full disk, or the write failed on a disk with no room
    left (a library that reports ENOSPC in its own words)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _FULL:
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def no_space_message(target: Path) -> str:
    """The one line for a write that ran out of space."""
    return (
        f"no space left on {target.parent} (writing {target.name}); free some space or pass a "
        "path on another disk"
    )


def check_room(target: str | os.PathLike, need: int) -> None:
    """Refuse up front, as "no space left", a write of about ``need`` bytes that cannot fit next
    to ``target``: for native writers that end the process on a failed write instead of raising
    (LiteRT's LLVM writer calls ``exit(1)``), checking first is the only clean failure."""
    target = Path(target)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: the write itself will say
    if free < need:
        raise OutputPathError(
            f"{no_space_message(target)} ({free // 1024} KiB free, about {need // 1024} KiB needed)"
        )


@contextlib.contextmanager
def native_file(tmp: Path) -> Iterator[object]:
    """``tmp`` opened for a native writer: its writes go through Python, so a full disk raises
    ``OSError`` instead of aborting the process from a C++ destructor (``torch.jit.save``)."""
    with open(tmp, "wb") as fh:
        yield fh


@contextlib.contextmanager
def scratch_dir(what: str) -> Iterator[Path]:
    """A private work folder in the system temp dir, removed on exit, on any exception and on a
    polite signal; named like a temp, so a later run sweeps it after a ``kill -9``."""
    base = Path(tempfile.gettempdir())
    sweep_stale(base)
    owner = os.getpid()
    with signals_raise():
        path = temp_name(base / what)
        try:
            path.mkdir(mode=0o700)
            yield path
        finally:
            if os.getpid() == owner:
                _remove(path)
