"""Before and after: runs bench scripts alternately in a worktree of an earlier commit (default: the merge-base
with main, the commit before this branch's work) and in this tree, N rounds each, and prints the medians of the
issue's measures beside their goals. Alternating spreads the shared machine's noise over both sides.

Run: .venv/bin/python bench/compare.py [--base REF] [--rounds 3] "bench/writeback.py --visits 20" ...
(each argument is one bench script with its arguments; `make bench` runs the five measures).
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@dataclass(frozen=True)
class Measure:
    name: str
    script: str
    pattern: str  # the first group is the figure
    goal: str
    section: str = ""  # the line the figure follows (launch and join print the same line shape)


NUMBER = r"([0-9.]+)"
MEASURES = (
    Measure("EHR writeback, epic (events/s)", "writeback.py", rf"^\s+epic\s+{NUMBER} events/s", ">= 150"),
    Measure("EHR writeback, fhir (events/s)", "writeback.py", rf"^\s+fhir\s+{NUMBER} events/s", ">= 150"),
    Measure(
        "HL7 applied from the queue (messages/s)", "hl7_ingest.py", rf"applied from the queue.*?:\s+{NUMBER}", ">= 150"
    ),
    Measure(
        "HL7 end to end, 8 at a time (messages/s)", "hl7_ingest.py", rf"one instance, 8 at a time:\s+{NUMBER}", ">= 300"
    ),
    Measure("launch, 50 at once: p95 (ms)", "launch.py", rf"concurrency 50: .*p95\s+{NUMBER} ms", "<= 1000", "launch"),
    Measure("launch, 50 at once (launches/s)", "launch.py", rf"concurrency 50: .*\s{NUMBER}/s", ">= 50", "launch"),
    Measure("join link, 50 at once: p95 (ms)", "launch.py", rf"concurrency 50: .*p95\s+{NUMBER} ms", "<= 1000", "join"),
)


def figures(script: str, output: str) -> dict[str, float]:
    found: dict[str, float] = {}
    section = ""
    for line in output.splitlines():
        if line.startswith(("launch resolution", "join links")):
            section = "launch" if line.startswith("launch") else "join"
        for measure in MEASURES:
            if measure.script != Path(script).name or measure.name in found:
                continue
            if measure.section and measure.section != section:
                continue
            match = re.search(measure.pattern, line)
            if match:
                found[measure.name] = float(match.group(1))
    return found


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def worktree(ref: str, same_bench: bool) -> Path:
    """A detached worktree of `ref` under bench/out/ (made once, kept for the next run). With `same_bench`, this
    tree's bench scripts replace the earlier ones there, so both sides are measured the same way and only the
    app's code differs."""
    commit = git("rev-parse", ref)
    path = OUT / f"before-{commit[:12]}"
    if not (path / ".git").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", str(path), commit)
    modules = path / "node_modules"  # Azurite comes from npm; the earlier tree uses this one's
    if not modules.exists():
        modules.symlink_to((ROOT / "node_modules").resolve())
    git("checkout", "--", "bench", cwd=path)
    if same_bench:
        for script in (ROOT / "bench").glob("*.py"):
            shutil.copy2(script, path / "bench" / script.name)
    return path


def run(tree: Path, command: str) -> str:
    script, *args = shlex.split(command)
    done = subprocess.run(
        [sys.executable, str(tree / script), *args], cwd=tree, capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        raise SystemExit(f"{command} failed in {tree}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="the earlier commit (default: the merge-base with main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--own-bench", action="store_true", help="run the earlier commit's own bench scripts (default: this tree's)"
    )
    parser.add_argument("commands", nargs="+", help='bench scripts with their arguments, e.g. "bench/launch.py"')
    args = parser.parse_args()
    base = args.base or git("merge-base", "HEAD", "main")
    before_tree = worktree(base, same_bench=not args.own_bench)
    samples: dict[tuple[str, str], list[float]] = {}
    last: dict[str, str] = {}  # each command's last output in this tree: its counts and other figures
    for round_number in range(1, args.rounds + 1):
        for command in args.commands:
            for side, tree in (("before", before_tree), ("after", ROOT)):
                print(f"round {round_number}/{args.rounds}, {side}: {command}", file=sys.stderr, flush=True)
                output = run(tree, command)
                if side == "after":
                    last[command] = output
                for name, value in figures(shlex.split(command)[0], output).items():
                    samples.setdefault((name, side), []).append(value)
    for command, output in last.items():
        print(f"$ {command}   (this tree, last round)\n{output}")
    scripts = {Path(shlex.split(c)[0]).name for c in args.commands}
    print(
        f"\nbefore: {git('rev-parse', '--short', base)}, after: {git('rev-parse', '--short', 'HEAD')} (+ work tree), "
        f"{args.rounds} rounds each, alternated, {'each' if args.own_bench else 'this'} tree's bench scripts; medians"
    )
    print("| measure | before | after | goal |\n|---|---|---|---|")
    for measure in MEASURES:
        if measure.script not in scripts:
            continue
        cells = [_median(samples.get((measure.name, side), [])) for side in ("before", "after")]
        print(f"| {measure.name} | {cells[0]} | {cells[1]} | {measure.goal} |")


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):g}" if values else "-"


if __name__ == "__main__":
    main()
