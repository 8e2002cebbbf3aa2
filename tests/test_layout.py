"""The package as it installs: one top-level name, every source module shipped, studies kept out,
the layer contract kept and no import cycle between files.

The wheel is built from this checkout (``pip wheel --no-deps --no-build-isolation``, ~3 s) because
``converters/`` and ``benchmarks/`` only become ``edgeseg.converters`` / ``edgeseg.benchmarks``
through setup.py's folder mapping: the unpacked wheel is the tree users import.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAPPED = {
    "edgeseg": "edgeseg",
    "edgeseg/converters": "converters",
    "edgeseg/benchmarks": "benchmarks",
}
NOT_SHIPPED = ("benchmarks/studies", "benchmarks/results")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources: setuptools reuses an in-tree ``build/lib``, which would
    still hold modules deleted since the last build."""
    source = tmp_path_factory.mktemp("source")
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in MAPPED.values():
        shutil.copytree(REPO / folder, source / folder, ignore=_not_source)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-index", "--no-deps"]
        + ["--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (path,) = out.glob("edgeseg-*.whl")
    return path


def _not_source(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", "results") or n.endswith(".pyc")}


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
    return root


def test_only_edgeseg_is_installed_at_top_level(wheel) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert zf.read(top_level).decode().split() == ["edgeseg"]
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"edgeseg"}
    installed = importlib.metadata.distribution("edgeseg").read_text("top_level.txt")
    assert installed is not None and installed.split() == ["edgeseg"]


def test_every_library_module_ships_and_the_studies_do_not(wheel) -> None:
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n for n in zf.namelist() if n.endswith(".py")}
    expected = set()
    for installed_as, folder in MAPPED.items():
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith(NOT_SHIPPED) or "__pycache__" in rel:
                continue
            expected.add(installed_as + "/" + path.relative_to(REPO / folder).as_posix())
    assert expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"
    assert not [n for n in shipped if n.startswith("edgeseg/benchmarks/studies")]
    assert shipped <= expected, f"shipped but not in the source tree: {sorted(shipped - expected)}"


def test_layer_contract_holds(unpacked) -> None:
    """``lint-imports`` with pyproject's contracts, on the tree as installed."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    done = subprocess.run(
        [str(lint), str(REPO / "pyproject.toml")],
        cwd=unpacked,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "BROKEN" not in done.stdout


def test_no_import_cycle_between_files(unpacked) -> None:
    """Every module-level and lazy (in-function) import between edgeseg's files, as one graph:
    it must have no strongly connected component larger than one file."""
    grimp = pytest.importorskip("grimp")
    sys.path.insert(0, str(unpacked))
    try:
        graph = grimp.build_graph("edgeseg", exclude_type_checking_imports=True, cache_dir=None)
    finally:
        sys.path.remove(str(unpacked))
    cycles = _cycles({m: graph.find_modules_directly_imported_by(m) for m in graph.modules})
    assert cycles == [], f"import cycles between files: {cycles}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively; only those of two or more files."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
