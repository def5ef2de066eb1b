"""Takes the README's screenshots of the report and the dashboard in headless Chromium.

    python -m scripts.reporting.screenshots [--report PATH] [--out-dir docs]

Run after `make build` and `make report`: it opens the report file, starts the dashboard
on a free loopback port over the published warehouse, and writes
`docs/report.png` and `docs/dashboard.png`. Uses the test suite's Chromium helper
(Debian's chromium and chromium-driver, `make browser`).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from browser import chromium  # noqa: E402


def full_page(driver, path: Path, width: int = 1400, max_height: int = 9000) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 20, max_height))
    time.sleep(1.5)
    driver.save_screenshot(str(path))


def dashboard(driver, path: Path, query: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "streamlit", "run", "scripts/reporting/dashboard.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "viewer", "--server.fileWatcherType", "none"]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        driver.set_window_size(1400, 1700)
        driver.get(f"{url}/{query}")
        time.sleep(8)
        driver.save_screenshot(str(path))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=Path("reports/segmentation_report.html"))
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    parser.add_argument("--query", default="?segment=Champions&segment=Loyal")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"error: no report at {args.report}: run `make report` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as driver:
        driver.set_window_size(1400, 1200)
        driver.get(args.report.resolve().as_uri())
        time.sleep(3)
        full_page(driver, args.out_dir / "report.png")
        dashboard(driver, args.out_dir / "dashboard.png", args.query)
    from PIL import Image

    for name in ("report.png", "dashboard.png"):
        # 256 colours are plenty for flat UI colours, at a fraction of the size in git.
        path = args.out_dir / name
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
    print(f"wrote {args.out_dir / 'report.png'} and {args.out_dir / 'dashboard.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
