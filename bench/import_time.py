"""Cold-start figure: how long `import function_app` takes, next to `import azure.functions` alone.

Each import runs in a fresh interpreter (bytecode already compiled), the two alternating so that a busy moment
weighs on both alike, 15 times each; the medians and their ratio are printed (goal: at most 1.5).
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
RUNS = 15
ENV = {**os.environ, **offline_values()}
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


MODULES = ("azure.functions", "function_app")


def once(module: str) -> float:
    command = [sys.executable, "-c", TIMER.format(module=module)]
    return float(subprocess.run(command, cwd=ROOT, env=ENV, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    print(f"import time, median of {RUNS} fresh interpreters each (Python {sys.version.split()[0]})")
    for module in MODULES:
        once(module)  # warm the bytecode cache
    samples: dict[str, list[float]] = {module: [] for module in MODULES}
    for _ in range(RUNS):
        for module in MODULES:
            samples[module].append(once(module))
    for module, values in samples.items():
        spread = ", ".join(f"{s * 1000:.0f}" for s in values)
        print(f"  {module:<16} {statistics.median(values) * 1000:6.0f} ms   (runs: {spread} ms)")
    ratio = statistics.median(samples["function_app"]) / statistics.median(samples["azure.functions"])
    print(f"  ratio            {ratio:6.2f}   (goal: at most 1.50)")


if __name__ == "__main__":
    main()
