"""The host side of the Android demo app (``android_demo/``): models in, APK out, results back.

``add_model`` copies an exported artifact and its sidecar into the app's
``app/src/main/assets/models/`` and updates ``index.json`` (the list the app's model switcher
shows) atomically; when the artifact's runtime is installed here it also writes the golden mask
of the app's bundled sample picture (``<model>.sample-mask.png``), which the app's instrumented
tests compare with what the phone computes. ``add_models`` takes files and export folders (the
quickstart's ``runs/quickstart/export``), checks them all before copying any, and skips what the
app cannot run with a note. ``install`` builds the app with its Gradle wrapper and installs it with
:class:`edgeseg.benchmarks.adb.Adb` on the devices ``--device`` names, or says exactly which
prerequisite is missing. ``read_bench_result`` reads what the app's bench
mode writes (schema: ``android_demo/BENCH_MODE.md``), masks decoded, for ``edgeseg bench``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeseg.app_protocol import (  # noqa: F401  (re-exported: the app's side of the contract)
    APP_RUNTIMES,
    BENCH_ACTIVITY,
    PACKAGE,
    AndroidDemoError,
    read_bench_result,
)
from edgeseg.atomic import atomic_path
from edgeseg.noise import terminal_stderr
from edgeseg.sidecar import read_sidecar, sidecar_path, verify_artifact

if TYPE_CHECKING:  # numpy, PIL and the runtimes load only when a golden mask is written
    import numpy as np

MODELS_DIR = Path("app/src/main/assets/models")
INDEX = "index.json"
INDEX_FORMAT = "edgeseg-android-models"
APK = Path("app/build/outputs/apk/debug/app-debug.apk")
WRAPPER_JAR = Path("gradle/wrapper/gradle-wrapper.jar")
SAMPLE_PICTURE = Path("app/src/main/assets/samples/sample.png")
GOLDEN_SUFFIX = ".sample-mask.png"  # <model>.sample-mask.png: the host's mask of the sample
INSTALL_TIMEOUT_S = 300.0


@dataclass
class AddResult:
    """A model copied into the app: where it went and how the switcher labels it."""

    model: Path
    sidecar: Path
    index: Path
    label: str
    golden: Path | None = None  # the sample picture's mask as the host runtime computes it
    note: str = ""  # why there is no golden mask


def sample_picture() -> np.ndarray:
    """The app's bundled picture: item 0 of the ``sample`` dataset's val split at its native
    120x160, drawn by edgeseg itself (no dataset file is copied into the repository), so the
    quickstart's models, trained on that generator, find their classes in it."""
    import numpy as np

    from edgeseg.data.sample import SAMPLE_SIZE, SampleDataset

    return np.asarray(SampleDataset("val", size=SAMPLE_SIZE).load_image(0).convert("RGB"))


def default_app() -> Path:
    """``android_demo/`` of the checkout this edgeseg runs from."""
    return Path(__file__).resolve().parents[2] / "android_demo"


def check_app(app: str | Path | None) -> Path:
    """The app folder, or an error saying why it is not the edgeseg demo project."""
    root = Path(app) if app is not None else default_app()
    if not (root / "app" / "build.gradle.kts").is_file():
        raise AndroidDemoError(
            f"{root} is not the edgeseg Android demo (no app/build.gradle.kts); "
            "pass --app PATH to the android_demo folder of an edgeseg checkout"
        )
    return root


def _check_artifact(artifact: Path) -> tuple[str, dict[str, Any]]:
    """(app runtime name, validated sidecar) or the error saying what is wrong with the file."""
    runtime = APP_RUNTIMES.get(artifact.suffix.lower())
    if runtime is None:
        raise AndroidDemoError(
            f"{artifact.name}: the app cannot run '{artifact.suffix or artifact.name}' files "
            f"(it runs {', '.join(APP_RUNTIMES)}); export with --target tflite, executorch or onnx"
        )
    if not artifact.is_file():
        raise AndroidDemoError(f"{artifact}: no such model file")
    return runtime, read_sidecar(artifact)  # absent or invalid sidecar → ContractError


def add_model(artifact: str | Path, app: str | Path | None = None) -> AddResult:
    """Copy ``artifact`` + sidecar into the app's assets and list it in ``index.json``."""
    artifact = Path(artifact)
    runtime, meta = _check_artifact(artifact)
    root = check_app(app)
    check_model(artifact, meta)
    target = root / MODELS_DIR / artifact.name
    for src, dst in ((artifact, target), (sidecar_path(artifact), sidecar_path(target))):
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
    label = f"{meta.get('arch', artifact.stem)} · {meta.get('quantization', '?')} · {runtime}"
    entry = {
        "file": artifact.name,
        "label": label,
        "runtime": runtime,
        "input_size": meta["input_size"],
        "bytes": target.stat().st_size,
        "sha256": _sha256(target),
    }
    index = _write_index(root, entry)
    golden, note = write_golden(target, meta, root)
    return AddResult(target, sidecar_path(target), index, label, golden, note)


def write_golden(model: Path, meta: dict[str, Any], root: Path) -> tuple[Path | None, str]:
    """The mask the host runtime gives for the app's sample picture, as ``<model>.sample-mask.png``
    (uint8 class ids at the model's input size), or None and why: the runtime is not installed
    here, or the file does not run in it (the app will say why on the phone)."""
    import numpy as np
    from PIL import Image

    from edgeseg import contract, runtimes

    picture = root / SAMPLE_PICTURE
    if not picture.is_file():
        return None, f"no golden mask: {picture} is absent"
    try:
        session = runtimes.load(model, threads=1)
        image = np.asarray(Image.open(picture).convert("RGB"))
        mask = contract.postprocess(session.run(contract.preprocess(image, meta)), meta)
    except Exception as exc:  # noqa: BLE001 — optional: any failure is a note, never an error
        return None, f"no golden mask: {str(exc).splitlines()[0][:160] if str(exc) else exc!r}"
    path = model.with_name(model.name + GOLDEN_SUFFIX)
    with atomic_path(path) as tmp:
        Image.fromarray(mask, mode="L").save(tmp, format="PNG")
    return path, ""


def expand(paths: list[str | Path]) -> tuple[list[Path], list[str]]:
    """Files as given; a folder → the files in it the app runs (sorted), the rest noted."""
    files: list[Path] = []
    notes: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir() or path.suffix.lower() in APP_RUNTIMES:
            files.append(path)
            continue
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in APP_RUNTIMES)
        if not found:
            raise AndroidDemoError(
                f"{path}: no .tflite, .pte or .onnx files in it; export with edgeseg export "
                "--target tflite,executorch,onnx (or run edgeseg quickstart) first"
            )
        files += found
        skipped = sorted(
            p.name
            for p in path.iterdir()
            if p.suffix.lower() not in APP_RUNTIMES and not p.name.endswith(".json")
        )
        if skipped:
            notes.append(
                f"skipped in {path}: {', '.join(skipped)} (the app runs .tflite, .pte, .onnx)"
            )
    return files, notes


def add_models(
    paths: list[str | Path], app: str | Path | None = None
) -> tuple[list[AddResult], list[str]]:
    """``edgeseg android-demo add``: every file or export folder in ``paths``; all are checked
    (type, file, sidecar) before the first copy, so one bad argument adds nothing."""
    root = check_app(app)
    files, notes = expand(paths)
    for path in files:
        _check_artifact(path)
    return [add_model(path, root) for path in files], notes


def check_model(artifact: Path, meta: dict[str, Any]) -> None:
    """Refuse a file the phone would fail on, here and in one line: it must match its sidecar
    (size and sha256, when recorded) and load in its runtime on this machine (the same
    library the app bundles), or at least pass that runtime's header check when the library is
    not installed here."""
    from edgeseg import runtimes

    verify_artifact(artifact, meta)
    cure = "re-export it with edgeseg export"
    try:
        runtime = runtimes.runtime_for(artifact)
        runtime.check_file(artifact)
        runtime.check_available()
    except runtimes.RuntimeNotInstalled:
        return  # the header passed; the full load needs a library this machine lacks
    except runtimes.ArtifactLoadError as exc:
        raise AndroidDemoError(f"cannot add {artifact}: {exc}; {cure}") from exc
    try:
        runtime.load(artifact, threads=1)
    except runtimes.RuntimeUnavailable:
        return
    except runtimes.ArtifactLoadError as exc:
        raise AndroidDemoError(f"cannot add {artifact}: {exc}; {cure}") from exc


def read_index(app: str | Path | None = None) -> list[dict[str, Any]]:
    """The models the app lists, in order ([] when none were added yet)."""
    path = check_app(app) / MODELS_DIR / INDEX
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        models = data["models"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AndroidDemoError(f"{path}: not a models index ({exc}); delete it and re-add") from exc
    return list(models)


def _write_index(root: Path, entry: dict[str, Any]) -> Path:
    """Replace the row of the same file in place (keeps the switcher's order) or append."""
    rows = read_index(root)
    files = [r.get("file") for r in rows]
    if entry["file"] in files:
        rows[files.index(entry["file"])] = entry
    else:
        rows.append(entry)
    path = root / MODELS_DIR / INDEX
    index = {"format": INDEX_FORMAT, "version": 1, "models": rows}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_build_tools(app: Path) -> list[str]:
    """Everything ``install`` needs that is absent, each with what to do about it."""
    from edgeseg.benchmarks.adb.client import AdbError, adb_path

    missing = []
    sdk = os.environ.get("ANDROID_HOME") or os.environ.get("ANDROID_SDK_ROOT")
    if not sdk:
        missing.append(
            "ANDROID_HOME is not set (install the Android SDK — Android Studio or the "
            "command-line tools with platforms;android-36 and build-tools — and export "
            "ANDROID_HOME=/path/to/sdk)"
        )
    elif not Path(sdk).is_dir():
        missing.append(f"ANDROID_HOME={sdk} is not a directory")
    if not (app / WRAPPER_JAR).is_file():
        missing.append(
            f"{app / WRAPPER_JAR} is absent (run `gradle wrapper` in {app} once, "
            "see android_demo/README.md)"
        )
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        missing.append("java (JDK 17+) is not on PATH and JAVA_HOME is not set")
    try:
        adb_path()
    except AdbError:
        missing.append("adb is not on PATH nor in $ANDROID_HOME/platform-tools (apt install adb)")
    return missing


@dataclass
class InstallResult:
    apk: Path
    serials: list[str]  # empty: adb's default device (the only one attached)


def install(device: str | None = None, app: str | Path | None = None) -> InstallResult:
    """Build the debug APK with the Gradle wrapper and ``adb install`` it on ``device``.

    ``device`` is what ``edgeseg bench --device`` takes (serial, model/codename alias, ``all``),
    resolved by :func:`edgeseg.benchmarks.adb.resolve_devices` before the build, so a typo fails in
    a second instead of after a Gradle run.
    """
    from edgeseg.benchmarks.adb import Adb, resolve_devices

    root = check_app(app)
    missing = missing_build_tools(root)
    if missing:
        raise AndroidDemoError("cannot build the Android demo: " + "; ".join(missing))
    serials = [d.serial for d in resolve_devices(device)] if device else []
    gradlew = root / ("gradlew.bat" if os.name == "nt" else "gradlew")
    build = subprocess.run(  # Gradle's log is for the user: the real stderr, not the captured
        [str(gradlew), ":app:assembleDebug"], cwd=root, check=False, stderr=terminal_stderr()
    )
    if build.returncode != 0:
        raise AndroidDemoError(
            f"gradle build failed (exit {build.returncode}); run `./gradlew :app:assembleDebug` "
            f"in {root} to see the whole log"
        )
    apk = root / APK
    if not apk.is_file():
        raise AndroidDemoError(f"gradle finished but {apk} is absent; check the build's output")
    for serial in serials or [None]:
        Adb(serial, timeout=INSTALL_TIMEOUT_S).install(apk)
    return InstallResult(apk, serials)


def add_exports(artifacts: list[Path], app: str | Path | None = None) -> list[str]:
    """``edgeseg export --android-demo``: add every artifact the app runs, say what was skipped."""
    lines = []
    for artifact in artifacts:
        if Path(artifact).suffix.lower() not in APP_RUNTIMES:
            lines.append(
                f"android-demo: skipped {Path(artifact).name} (the app runs "
                f"{', '.join(APP_RUNTIMES)})"
            )
            continue
        added = add_model(artifact, app)
        lines.append(f"android-demo: added {added.model.name} ({added.label}) to {added.index}")
    return lines
