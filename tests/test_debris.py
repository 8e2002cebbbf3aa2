"""No debris after an interruption (issue 16, class 4): real child processes are killed inside a
write made through :mod:`edgeseg.atomic`; an exception or a polite signal leaves no temp and the
old target; a ``kill -9`` leaves a temp that the next write into the folder removes, saying so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from edgeseg.atomic import atomic_path, is_temp, scratch_dir, temp_name
from edgeseg.cli import main
from edgeseg.errors import ExportError

REPO = Path(__file__).resolve().parents[1]

# The child writes through the mechanism and sleeps inside the write; "ready" says it got there.
# SIGINT gets Python's usual handler even when the test runner started us with it ignored,
# SIGHUP its default action (nohup ignores it).
CHILD = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    target, kind, sigint = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGINT, signal.SIG_DFL if sigint == "dfl" else signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as from a terminal, also under nohup

    def ready():
        print("ready", flush=True)
        time.sleep(120)

    if kind == "checkpoint":
        import torch
        from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
        save = torch.save
        def slow_save(obj, f, *a, **k):
            save(obj, f, *a, **k)
            ready()
        torch.save = slow_save
        meta = CheckpointMeta("lraspp_mobilenet_v3_small", 2, ["a", "b"], [[0, 0, 0]] * 2,
                              [0.5] * 3, [0.5] * 3, [64, 64])
        save_checkpoint(target, torch.nn.Linear(512, 512), meta)
    elif kind == "scratch":
        import tempfile
        from edgeseg.atomic import scratch_dir
        tempfile.tempdir = str(target)
        with scratch_dir("edgeseg-onnx") as tmp:
            (tmp / "fp32.onnx").write_bytes(b"\\1" * (1 << 20))
            ready()
    else:
        from edgeseg.atomic import atomic_path
        with atomic_path(target, directory=kind == "dir") as tmp:
            if kind == "dir":
                tmp.mkdir()
                (tmp / "weights.bin").write_bytes(b"\\1" * (4 << 20))
            else:
                tmp.write_bytes(b"\\1" * (16 << 20))
            ready()
    """
)


def start_writer(target: Path, kind: str = "file", sigint: str = "python") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), kind, sigint],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        pytest.fail(f"writer never got inside its write: {proc.communicate()[1][-2000:]}")
    return proc


def wait_or_explain(proc: subprocess.Popen, timeout: float) -> int:
    """``proc``'s exit code; if it outlives ``timeout``, fail with what /proc says about it (its
    blocked, pending and caught signals, where it sleeps): a signal test that hangs once in CI
    (SIGHUP, session 20) should leave a clue, not only a timeout."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status")
        lines = status.read_text().splitlines() if status.exists() else []
        clue = [ln for ln in lines if ln.startswith(("State", "Threads", "Sig", "Shd"))]
        wchan = Path(f"/proc/{proc.pid}/wchan")
        clue.append(f"wchan: {wchan.read_text() if wchan.exists() else '?'}")
        proc.kill()
        pytest.fail(f"still running after {timeout} s: {'; '.join(clue)}")


def temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_temp(p))


def stale_line(err: str) -> list[str]:
    return [line for line in err.splitlines() if "stale temp file" in line]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def forge(target: Path, pid: int | None = None, start: str | None = None, host: str | None = None):
    """A temp name as another writer would have made it (one field changed from ours)."""
    head, tail = temp_name(target).name.split(".edgeseg.")
    ident, machine, rand, role = tail.split(".")
    own_pid, own_start = ident.split("-")
    own_host, boot = machine.split("-")
    ident = f"{pid or own_pid}-{start or own_start}"
    return target.with_name(f"{head}.edgeseg.{ident}.{host or own_host}-{boot}.{rand}.{role}")


@pytest.mark.parametrize("kind", ["file", "checkpoint"])
def test_kill9_leaves_a_temp_that_the_next_write_removes(capsys, tmp_path, kind) -> None:
    target = tmp_path / "best.pt"
    target.write_bytes(b"old")
    writer = start_writer(target, kind)
    writer.kill()
    writer.wait()
    (left,) = temps(tmp_path)
    assert left.stat().st_size > 0 and target.read_bytes() == b"old"
    with atomic_path(tmp_path / "other.json") as tmp:
        tmp.write_text("{}")
    assert temps(tmp_path) == []
    (line,) = stale_line(capsys.readouterr().err)
    assert line == f"removed 1 stale temp file left by an interrupted run in {tmp_path}"
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize(
    ("signum", "sigint", "codes"),
    [
        (signal.SIGTERM, "python", (143,)),
        (signal.SIGINT, "python", (-signal.SIGINT, 130, 1)),  # Python's KeyboardInterrupt
        (signal.SIGINT, "dfl", (130,)),  # SIGINT at its default action: the write raises
        (signal.SIGHUP, "python", (129,)),
    ],
    ids=["SIGTERM", "SIGINT", "SIGINT-default-action", "SIGHUP"],
)
def test_polite_signal_removes_the_temp_and_keeps_the_target(tmp_path, signum, sigint, codes):
    target = tmp_path / "best.pt"
    target.write_bytes(b"old")
    writer = start_writer(target, "checkpoint" if signum == signal.SIGTERM else "file", sigint)
    writer.send_signal(signum)
    code = wait_or_explain(writer, 60)
    assert code in codes, writer.stderr.read()[-2000:]
    assert sorted(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"


def test_signal_during_a_folder_write(tmp_path) -> None:
    target = tmp_path / "model.mlpackage"
    target.mkdir()
    (target / "old.bin").write_bytes(b"old")
    writer = start_writer(target, "dir")
    writer.terminate()
    assert wait_or_explain(writer, 60) == 143
    assert sorted(tmp_path.iterdir()) == [target] and (target / "old.bin").read_bytes() == b"old"


@pytest.mark.parametrize("directory", [False, True])
def test_exception_in_the_middle_leaves_no_temp(tmp_path, directory) -> None:
    target = tmp_path / ("model.mlpackage" if directory else "best.pt")
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_path(target, directory) as tmp:
        if directory:
            tmp.mkdir()
            (tmp / "half").write_bytes(b"half")
        else:
            tmp.write_bytes(b"half")
        raise RuntimeError("disk on fire")
    assert sorted(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"


def test_handlers_are_restored_and_nesting_keeps_them(tmp_path) -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with atomic_path(tmp_path / "a") as a:
            inside = signal.getsignal(signal.SIGTERM)
            assert inside is not signal.SIG_DFL
            with atomic_path(tmp_path / "b") as b:
                b.write_text("b")
            assert signal.getsignal(signal.SIGTERM) is inside
            a.write_text("a")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (tmp_path / "a").read_text() == "a" and (tmp_path / "b").read_text() == "b"


def test_a_live_writers_temp_is_never_removed(capsys, tmp_path) -> None:
    writer = start_writer(tmp_path / "best.pt")
    try:
        (live,) = temps(tmp_path)
        with atomic_path(tmp_path / "other.json") as tmp:
            tmp.write_text("{}")
        assert temps(tmp_path) == [live]
        assert stale_line(capsys.readouterr().err) == []
    finally:
        writer.kill()
        writer.wait()
    with atomic_path(tmp_path / "other.json") as tmp:
        tmp.write_text("{}")
    assert temps(tmp_path) == [] and len(stale_line(capsys.readouterr().err)) == 1


def test_kill9_in_a_folder_write_is_swept(capsys, tmp_path) -> None:
    writer = start_writer(tmp_path / "model.mlpackage", "dir")
    writer.kill()
    writer.wait()
    (left,) = temps(tmp_path)
    assert left.is_dir() and left.name.endswith(".tmp.mlpackage")
    with atomic_path(tmp_path / "model.mlpackage", directory=True) as tmp:
        tmp.mkdir()
        (tmp / "new.bin").write_bytes(b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mlpackage"]
    assert len(stale_line(capsys.readouterr().err)) == 1


def test_which_names_are_stale(capsys, tmp_path) -> None:
    """A reused PID (other start time) and a dead PID are stale; another host's temp, our own
    and files that are not edgeseg temps (even look-alikes) are left alone."""
    target = tmp_path / "best.pt"
    stale = [forge(target, pid=dead_pid()), forge(target, start="1")]
    kept = [forge(target, host="0badc0de"), temp_name(target)]
    others = [".best.pt.abc123.tmp", ".best.pt.edgeseg.tmp", "best.pt.edgeseg.1-2.x-y.z.tmp"]
    for path in [*stale, *kept, *(tmp_path / n for n in others)]:
        path.write_bytes(b"x")
    with atomic_path(tmp_path / "other.json") as tmp:
        tmp.write_text("{}")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {*(p.name for p in kept), *others, "other.json"}
    assert stale_line(capsys.readouterr().err)[0].startswith("removed 2 stale temp files")


def test_an_interrupted_folder_swap_is_put_back(capsys, tmp_path) -> None:
    """kill -9 between moving the old folder aside and moving the new one in: the next write
    restores the old folder instead of deleting the only good copy."""
    target = tmp_path / "model.mlpackage"
    aside = forge(target, pid=dead_pid())
    aside = aside.with_name(aside.name.replace(".tmp", ".old") + ".mlpackage")
    aside.mkdir()
    (aside / "old.bin").write_bytes(b"old")
    with atomic_path(tmp_path / "other.json") as tmp:
        tmp.write_text("{}")
    assert (target / "old.bin").read_bytes() == b"old" and temps(tmp_path) == []
    assert "put back model.mlpackage" in capsys.readouterr().err


def test_scratch_folders_in_the_temp_dir_are_swept_too(capsys, monkeypatch, tmp_path) -> None:
    """Intermediate files (the ONNX converter's fp32 model) live in the system temp dir: a
    ``kill -9`` leaves them; the next scratch folder removes them; SIGTERM leaves nothing."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    writer = start_writer(tmp_path, "scratch")
    writer.kill()
    writer.wait()
    (left,) = temps(tmp_path)
    assert (left / "fp32.onnx").is_file()
    with scratch_dir("edgeseg-onnx") as work:
        assert temps(tmp_path) == [work]
    assert list(tmp_path.iterdir()) == [] and len(stale_line(capsys.readouterr().err)) == 1
    writer = start_writer(tmp_path, "scratch")
    writer.terminate()
    assert wait_or_explain(writer, 60) == 143 and list(tmp_path.iterdir()) == []


EXPORT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from edgeseg.cli import main; sys.exit(main(sys.argv[1:]))"
)


def export_args(checkpoint: Path, out: Path) -> list[str]:
    return ["export", str(checkpoint), "--target", "torchscript", "--out", str(out)]


def start_cli_export(checkpoint: Path, out: Path) -> subprocess.Popen:
    """A real ``edgeseg export`` child, returned once its artifact's temp exists (mid-export)."""
    cmd = [sys.executable, "-c", EXPORT, *export_args(checkpoint, out), "--parity-images", "4"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and temps(out)):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"export never reached its write: {proc.communicate()[1][-2000:]!r}")
        time.sleep(0.005)
    return proc


def test_cli_export_killed_by_sigkill_is_cleaned_by_the_next_export(
    capsys, sample_checkpoint, tmp_path
) -> None:
    out = tmp_path / "exports"
    child = start_cli_export(sample_checkpoint, out)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert temps(out), "kill -9 mid-export left nothing to clean: the test proves nothing"
    code = main([*export_args(sample_checkpoint, out), "--parity-images", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert temps(out) == []
    (line,) = stale_line(err)
    assert line.startswith("removed 1 stale temp file left by an interrupted run in")
    assert str(out) in line


@pytest.mark.parametrize(
    ("signum", "codes"),
    [(signal.SIGTERM, (143,)), (signal.SIGINT, (1, 130))],  # Ctrl-C: click says "Aborted!"
    ids=["SIGTERM", "SIGINT"],
)
def test_cli_export_interrupted_leaves_nothing(sample_checkpoint, tmp_path, signum, codes) -> None:
    out = tmp_path / "exports"
    child = start_cli_export(sample_checkpoint, out)
    child.send_signal(signum)
    assert child.wait(timeout=120) in codes, child.stderr.read()[-2000:]
    assert list(out.iterdir()) == []


def test_atomic_files_get_the_permissions_open_would_give(tmp_path) -> None:
    """An artifact copied into the Android app must be readable by the build, not 0600."""
    from edgeseg.atomic import atomic_path

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "model.onnx") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "model.onnx").stat().st_mode & 0o777 == 0o644


def write_that_gets_a_wrapped_sigterm(path: Path, wrap: type[Exception] = RuntimeError) -> None:
    """An atomic write whose writer is native code: a real SIGTERM arrives mid-write, the handler
    raises :class:`~edgeseg.atomic.Terminated` inside the writer's callback, and the writer hands
    it back as an ordinary ``RuntimeError`` (what ``torch.jit.save`` does)."""
    from edgeseg import atomic

    with atomic.atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here
        except atomic.Terminated as exc:
            raise wrap(f"native writer: {exc!r}") from None


def test_a_signal_that_native_code_wrapped_still_terminates(tmp_path) -> None:
    """A SIGTERM handled inside a native callback comes back as a RuntimeError; the write scope
    turns it back into Terminated, so export's per-target ``except Exception`` cannot record it
    as one failed target with exit 3 (seen once in CI:
    ``test_cli_export_interrupted_leaves_nothing[SIGTERM]`` got 3)."""
    from edgeseg import atomic

    try:
        with pytest.raises(atomic.Terminated) as err:
            write_that_gets_a_wrapped_sigterm(tmp_path / "model.pt")
        assert err.value.code == 143 and list(tmp_path.iterdir()) == []
        with pytest.raises(atomic.Terminated):  # still set: the process is on its way out
            atomic.reraise_if_terminated()
    finally:
        atomic._received.clear()


@pytest.mark.parametrize("directory", [False, True], ids=["file", "folder"])
def test_a_write_that_swallowed_the_signal_and_finished_does_not_commit(tmp_path, directory):
    """A writer that catches the signal's exception and goes on to finish (a broad ``except
    BaseException`` in a library) must still not put its artifact in place: the write ends with
    Terminated at the commit, the temp is gone and the old target is kept as it was."""
    from edgeseg import atomic

    target = tmp_path / ("model.mlpackage" if directory else "model.pt")
    if directory:
        target.mkdir()
        (target / "old").write_text("old")
    else:
        target.write_text("old")
    try:
        with (
            pytest.raises(atomic.Terminated) as err,
            atomic.atomic_path(target, directory=directory) as tmp,
        ):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises here
            except BaseException:
                pass  # swallowed: the writer carries on as if nothing happened
            if directory:
                tmp.mkdir()
                (tmp / "new").write_text("new")
            else:
                tmp.write_text("new")
        assert err.value.code == 143
        kept = target / "old" if directory else target
        assert kept.read_text() == "old" and temps(tmp_path) == []
        assert [p.name for p in tmp_path.iterdir()] == [target.name]
    finally:
        atomic._received.clear()


@pytest.mark.parametrize("wrap", [RuntimeError, ExportError], ids=["RuntimeError", "EdgesegError"])
def test_the_cli_ends_with_143_for_a_signal_that_reached_it_wrapped(
    sample_checkpoint, tmp_path, monkeypatch, capsys, wrap
) -> None:
    """Through the CLI: a SIGTERM that native code turned into an ordinary exception (or a library
    error made from one) ends with 143, not as an internal error or bad input."""
    from edgeseg import atomic
    from edgeseg.cli import export as export_cli

    out = tmp_path / "exports"
    monkeypatch.setattr(
        export_cli,
        "export_checkpoint",
        lambda *a, **k: write_that_gets_a_wrapped_sigterm(out / "m.pt", wrap),
    )
    out.mkdir()
    try:
        code = main(["export", str(sample_checkpoint), "--out", str(out)])
    finally:
        atomic._received.clear()
    err = capsys.readouterr().err
    assert code == 143 and "error" not in err, err
    assert list(out.iterdir()) == []
