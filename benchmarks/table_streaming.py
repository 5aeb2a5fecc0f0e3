"""A CSV four times the memory budget: zoo.data.load streamed against read whole.

A table of 6 numeric and 2 categorical columns and a binary target is written once.
Each measurement runs in a fresh process (TensorFlow, Keras and zoo imported and a tiny
table loaded before the clock starts) that loads it with ``memory_budget`` a quarter
of the file's size (streamed) or far above it (read whole with pandas, as before), then
reads the training split once (data only, no model). It reports the time to the end of
that epoch and the process's peak resident memory above what it held before the call.
Streamed and whole runs alternate; each row is the median repeat with the spread.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def write_table(path: Path, rows: int) -> Path:
    """`rows` rows of a synthetic table, written in blocks; reused if present."""
    import pandas as pd

    done = path.with_suffix(f".complete-{rows}")
    if done.exists():
        return path
    rng = np.random.default_rng(0)
    block = 200_000
    for start in range(0, rows, block):
        n = min(block, rows - start)
        frame = pd.DataFrame(rng.normal(size=(n, 6)).round(4), columns=[f"x{i}" for i in range(6)])
        frame["city"] = rng.choice(["paris", "lyon", "nice", "lille", "brest"], n)
        frame["kind"] = rng.choice(["a", "b", "c"], n)
        frame["target"] = (frame["x0"] + (frame["city"] == "paris") > 0.3).astype(int)
        frame.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)
    done.touch()
    return path


def child(kind: str, path: str, budget: int | None = None) -> dict:
    """One measurement in this (fresh) process (`budget`: instead of a quarter of the file)."""
    from common import current_mb, peak_mb

    import zoo

    warm = Path(tempfile.mkdtemp(prefix="zoo-bench-warm-")) / "warm.csv"
    write_table(warm, 2_000)
    for warm_budget in ("1K", None):  # both paths traced once
        next(iter(zoo.data.load(warm, memory_budget=warm_budget).train))
    size = Path(path).stat().st_size
    budget = budget or (size // 4 if kind == "streamed" else 64 * size)
    before = current_mb()
    start = time.perf_counter()
    data = zoo.data.load(path, memory_budget=budget, batch_size=256)
    loaded = time.perf_counter() - start
    for _ in data.train:
        pass
    return {
        "load": loaded,
        "epoch": time.perf_counter() - start,
        "peak_mb": peak_mb() - before,
        "budget_mb": budget / 2**20,
        "file_mb": size / 2**20,
        "train_rows": data.sizes["train"],
    }


def _measure(kind: str, path: Path, budget: int | None = None) -> dict:
    from common import child_result

    fixed = ["--budget", str(budget)] if budget else []
    return child_result(__file__, ["--child", kind, "--path", str(path), *fixed])


SECTION = None


def _scaling(base: Path, rows: int, budget: int, measured: dict) -> None:
    """Streamed peak memory for tables of 1/4, 1/2 and all of `rows`, at one budget."""
    global SECTION
    lines = [
        "## Streamed tables by size, one memory budget",
        "",
        f"`benchmarks/table_streaming.py`: the same budget ({budget / 2**20:.3g} MB) for "
        "tables of growing size; peak resident memory above the process's before the call "
        "(one run per size).",
        "",
        "| rows | file (MB) | file / budget | peak (MB) | load (s) | load + epoch (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in (rows // 4, rows // 2, rows):
        got = measured
        if size != rows:
            got = _measure("streamed", write_table(base / f"table-{size}.csv", size), budget)
        lines.append(
            f"| {size:,} | {got['file_mb']:.3g} | {got['file_mb'] / got['budget_mb']:.2g} | "
            f"{got['peak_mb']:.0f} | {got['load']:.1f} | {got['epoch']:.1f} |"
        )
        print(lines[-1], flush=True)
    SECTION = "\n".join(lines) + "\n"


def run(quick: bool = False) -> list[dict]:
    from common import fraction, row

    rows, repeats = (20_000, 1) if quick else (2_000_000, 3)
    base = Path(tempfile.gettempdir()) / "zoo-table-streaming"
    base.mkdir(exist_ok=True)
    path = write_table(base / f"table-{rows}.csv", rows)
    runs = {"streamed": [], "whole": []}
    for _ in range(repeats):  # alternating: noise hits both sides alike
        for kind in runs:
            runs[kind].append(_measure(kind, path))
            print(kind, {k: round(v, 2) for k, v in runs[kind][-1].items()}, flush=True)
    streamed, whole = runs["streamed"], runs["whole"]
    middle = int(np.argsort([s["peak_mb"] for s in streamed])[len(streamed) // 2])
    peaks = [s["peak_mb"] for s in streamed]
    file_mb, budget_mb = streamed[0]["file_mb"], streamed[0]["budget_mb"]
    described = f"{rows:,}-row CSV ({file_mb:.3g} MB, budget {budget_mb:.3g} MB)"
    _scaling(base, rows, int(budget_mb * 2**20), streamed[middle])
    ratios = [w["epoch"] / s["epoch"] for s, w in zip(streamed, whole, strict=True)]
    timed = int(np.argsort(ratios)[len(ratios) // 2])
    return [
        fraction(
            f"{described}: streamed peak memory above the process's, against the budget "
            f"(median of {repeats}, {min(peaks):.0f}-{max(peaks):.0f} MB)",
            streamed[middle]["peak_mb"],
            budget_mb,
            "MB",
            "<= 1 + a constant",
        ),
        row(
            f"{described}: peak memory, streamed vs read whole (median of {repeats})",
            streamed[middle]["peak_mb"],
            float(np.median([w["peak_mb"] for w in whole])),
            "MB",
            "(info: lower is better)",
            higher=False,
        ),
        row(
            f"{described}: load and one epoch over the training split, streamed vs read "
            f"whole (median of {repeats}, ratios {min(ratios):.2f}-{max(ratios):.2f})",
            streamed[timed]["epoch"],
            whole[timed]["epoch"],
            "s",
            "(info)",
            higher=False,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small table (for tests)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.budget)))
    else:
        sys.path.insert(0, str(HERE))
        for result in run(quick=args.quick):
            print(result)
