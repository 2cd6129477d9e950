"""Cold-start figure: how long `import function_app` takes, next to `import azure.functions` alone.

Each import runs in a fresh interpreter (bytecode already compiled), five times; the median is printed.
Run: make bench
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dev.host.local_settings import offline_values  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
ENV = {**os.environ, **offline_values()}
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def measure(module: str) -> list[float]:
    command = [sys.executable, "-c", TIMER.format(module=module)]
    subprocess.run(command, cwd=ROOT, env=ENV, check=True, capture_output=True)  # warm the bytecode cache
    return [
        float(subprocess.run(command, cwd=ROOT, env=ENV, check=True, capture_output=True, text=True).stdout)
        for _ in range(RUNS)
    ]


def main() -> None:
    print(f"import time, median of {RUNS} fresh interpreters (Python {sys.version.split()[0]})")
    for module in ("azure.functions", "function_app"):
        samples = measure(module)
        spread = ", ".join(f"{s * 1000:.0f}" for s in samples)
        print(f"  {module:<16} {statistics.median(samples) * 1000:6.0f} ms   (runs: {spread} ms)")


if __name__ == "__main__":
    main()
