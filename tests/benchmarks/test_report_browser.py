"""The HTML report in a real browser (headless Chromium): the verdict is there, every image
loads, the results table fits the window; a screenshot stays in the test's temp folder.

A copy of the page gets a small probe script that, once the page has loaded, writes what the
browser measured (each image's naturalWidth, each table's width against its container, the
page's width against the window) into the DOM, which ``--dump-dom`` then prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edgeseg.benchmarks.bench import run_bench
from edgeseg.benchmarks.options import AccuracyOptions, BenchOptions, GateOptions, TimingOptions
from edgeseg.benchmarks.report import write_html

PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => [i.alt, i.complete, i.naturalWidth]);
  const tables = [...document.querySelectorAll("table")].map(
    t => [t.scrollWidth, t.parentElement.clientWidth]);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({images, tables,
    page: [document.documentElement.scrollWidth, window.innerWidth]});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def browse(page: Path, folder: Path, width: int) -> tuple[dict, str, Path]:
    """(probe, DOM text, screenshot) of ``page`` in a ``width``-wide headless window."""
    probed = folder / f"probed_{width}.html"
    probed.write_text(page.read_text(encoding="utf-8") + PROBE, encoding="utf-8")
    shot = folder / f"report_{width}.png"
    common = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={folder / 'profile'}",
        f"--window-size={width},1600",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    subprocess.run(
        [*common, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")), dom, shot


@pytest.fixture(scope="module")
def page(exports, tmp_path_factory) -> Path:
    """fp32 and int8 ONNX of one checkpoint, mIoU on 2 sample pictures with overlays, gated."""
    tmp = tmp_path_factory.mktemp("browser")
    accuracy = AccuracyOptions(data="sample", images=2, overlays=2, overlay_dir=str(tmp / "ov"))
    options = BenchOptions(
        TimingOptions(warmup=0, runs=2),
        accuracy,
        progress=False,
        gates=GateOptions(max_miou_drop=100),
    )
    report = run_bench([exports["onnx"], exports["onnx-int8"]], options)
    assert [r.status for r in report.results] == ["ok", "ok"]
    return write_html(report, tmp / "report.html")


def test_report_in_chromium(page, tmp_path) -> None:
    probe, dom, shot = browse(page, tmp_path, 1280)
    verdict = re.search(r"<section class=\"verdict\" id=\"verdict\">(.*?)</section>", dom, re.S)
    assert verdict, "the page does not open with a verdict"
    text = re.sub(r"<[^>]+>", " ", verdict.group(1))
    assert "gates (ΔmIoU ≥ −100 points): passed — 2 pass, 0 fail" in text
    assert "best on host: lraspp_mobilenet_v3_small_" in text
    assert re.search(r"int8 speed-up, onnxruntime on host: \d+\.\d\d×", text)
    assert "worst accuracy drop: " in text and "mIoU points" in text
    # the plot, and per picture (2) its ground truth + both artifacts' predictions
    images = probe["images"]
    assert len(images) == 1 + 2 * 3
    assert all(complete and width > 0 for _, complete, width in images), images
    assert sum(alt == "ground truth" for alt, _, _ in images) == 2
    assert all(table <= room for table, room in probe["tables"]), probe["tables"]
    assert probe["page"][0] <= probe["page"][1]
    assert '<dl class="settings">' in dom and "{'warmup'" not in dom  # a list, not a dict
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_results_table_fits_a_narrow_window(page, tmp_path) -> None:
    probe, _, shot = browse(page, tmp_path, 820)
    table, room = probe["tables"][0]
    assert table <= room and probe["page"][0] <= probe["page"][1], probe
    assert shot.is_file()
