"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``).

Three Chromium runs on one report that carries hostile strings in its data:
1. load + screenshot, with the browser console on stderr: the page logs nothing (no script
   errors, no blocked fetch, no Content-Security-Policy violation, which is what an injected
   ``<script>`` or ``<img onerror>`` would trigger) and the screenshot is not blank;
2. a probe copy of the page (our own measuring script added, CSP relaxed for it alone), dumped
   with ``--dump-dom``: the findings table and every plot are laid out with a real size;
3. a control page with a deliberate error and nothing to see, proving that checks 1 and 2 can fail.
Skips when Chromium is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from analyzer.findings import ScanResult
from analyzer.report import build_report, render
from analyzer.store import Store
from test_report_security import HOSTILE, _hostile_findings
from test_report_sql import DAY, scenario_findings, seed_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r":INFO:CONSOLE[^\]]*\]\s*(.*)")

PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  function box(el) { var r = el.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; }
  var table = document.getElementById('findings-table');
  var out = {
    table: table ? box(table) : null,
    rows: table ? table.tBodies[0].rows.length : 0,
    plots: Array.prototype.map.call(document.querySelectorAll('svg.plot'), box),
    scripts: document.scripts.length,
    errors: errors
  };
  var pre = document.createElement('pre'); pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
})();
</script>"""


def _chromium(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="sc2-chromium-") as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)


def _console(stderr: str) -> list[str]:
    return [m.group(1) for m in map(CONSOLE.search, stderr.splitlines()) if m]


def _pixel_spread(png: Path) -> tuple[float, float]:
    """(standard deviation of luminance, share of pixels that differ from the most common colour)."""
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(png))[..., :3]
    lum = img.mean(axis=2)
    values, counts = np.unique((lum * 255).round(), return_counts=True)
    background = values[counts.argmax()]
    return float(lum.std()), float(((lum * 255).round() != background).mean())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A report whose findings mix clean and hostile strings, written to a file."""
    with Store() as store:
        seed_store(store, hostile={"text": HOSTILE, "reason": HOSTILE})
        findings = scenario_findings() + _hostile_findings()[:1]
        result = ScanResult(findings=findings, window_start=DAY, window_end=DAY + timedelta(days=1),
                            channels_scored=40, hosts=9)
        html = render(build_report(store, result), "html")
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_page_loads_without_console_messages_and_is_not_blank(page, tmp_path):
    shot = tmp_path / "shot.png"
    res = _chromium(["--window-size=1280,2200", f"--screenshot={shot}", page.as_uri()])
    assert shot.exists(), res.stderr[-2000:]
    assert _console(res.stderr) == []
    spread, share = _pixel_spread(shot)
    assert spread > 0.05 and share > 0.05, (spread, share)
    (Path(tempfile.gettempdir()) / "sc2-report-screenshot.png").write_bytes(shot.read_bytes())


def test_findings_table_and_plots_are_laid_out(page, tmp_path):
    html = page.read_text(encoding="utf-8")
    html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    res = _chromium(["--window-size=1280,2200", "--dump-dom", probe.as_uri()])
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', res.stdout, re.S)
    assert found, res.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["errors"] == [] and result["scripts"] == 1          # only the probe itself
    assert result["rows"] == 4 and result["table"][0] > 600 and result["table"][1] > 100
    assert len(result["plots"]) == 4 + 2                              # 4 channels, coverage, platforms
    assert all(w > 300 and h > 80 for w, h in result["plots"]), result["plots"]


def test_the_checks_catch_a_broken_blank_page(tmp_path):
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    shot = tmp_path / "control.png"
    res = _chromium(["--window-size=800,600", f"--screenshot={shot}", control.as_uri()])
    assert any("undefinedFunction" in line for line in _console(res.stderr))
    spread, share = _pixel_spread(shot)
    assert spread < 0.01 and share < 0.01
