"""What a stopped bench takes with it: the ``adb`` clients it started.

A phone row runs ``adb shell <tool>`` for as long as the tool measures, from a worker thread
(``schedule``). Without this module a SIGTERM to ``edgeseg bench`` (a CI timeout, ``kill``) ended
the bench at once and left those clients running the phone's benchmark to its end, holding the
phone busy for whatever ran next; Ctrl-C reached them only because they share the terminal's
process group. Now the bench runs inside :func:`stoppable`: a polite signal raises
:class:`~edgeseg.atomic.Terminated` in the main thread (the one mechanism every write uses), and
on the way out every client still running is killed and no new one starts (a worker's clean-up
step after its client died would otherwise start another, orphaned as soon as the process
exits). The refusal holds for worker threads until the next bench; the main thread may still run
adb (its clean-up finishes before the process exits, and ``edgeseg devices`` in the same process
keeps working). Clients are started through :func:`started`, under a lock, so a kill never misses
one that was being started.

The host's measuring child needs none of this: it asks the kernel to end it with its parent
(``harness``), which also covers a ``kill -9`` of the bench.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator, Sequence

from edgeseg.atomic import signals_raise
from edgeseg.benchmarks.base import BenchError

_lock = threading.Lock()
_live: set[subprocess.Popen] = set()
_stopping = False


class BenchStopping(BenchError):
    """The bench is being stopped: no new client process is started."""


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Run the bench's rows: a polite signal raises ``Terminated``, and however the scope ends
    early (a signal, Ctrl-C, a bug), the clients still running are killed."""
    global _stopping
    with _lock:
        _stopping = False
    try:
        with signals_raise():
            yield
    except BaseException:
        stop_all()
        raise


def stop_all() -> None:
    """Kill every live client and refuse new ones from worker threads until the next
    :func:`stoppable`."""
    global _stopping
    with _lock:
        _stopping = True
        live = list(_live)
    for proc in live:
        _kill(proc)


@contextlib.contextmanager
def started(cmd: Sequence[str], **popen: object) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen(cmd, **popen)``, known to :func:`stop_all` until the block ends; a
    block left by an exception kills it first (a timeout, or the bench stopping)."""
    with _lock:
        if _stopping and threading.current_thread() is not threading.main_thread():
            raise BenchStopping(f"the bench is stopping; `{cmd[0]}` was not started")
        proc = subprocess.Popen(list(cmd), **popen)  # type: ignore[call-overload]
        _live.add(proc)
    try:
        yield proc
    except BaseException:
        _kill(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)  # reaped here, not left a zombie
        raise
    finally:
        with _lock:
            _live.discard(proc)


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        proc.kill()
