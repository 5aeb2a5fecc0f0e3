"""Run every benchmark and write benchmarks/README.md with the measured ratios.

Usage: .venv/bin/python benchmarks/run.py [--quick] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
BENCHMARKS = [
    "train_overhead",
    "image_pipeline",
    "folder_startup",
    "table_streaming",
    "feature_cache",
    "tuning_memory",
    "tuning_workers",
    "resnet50",
    "accuracy",
    "rbm",
    "timeseries",
]
ACCELERATOR = "## On an accelerator"


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    lines += [
        "| " + " | ".join(str(v) for v in values) + " |" for values in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--output", default=str(HERE / "README.md"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from common import machine

    rows, notes, sections = [], [], []
    for name in BENCHMARKS:
        print(f"running {name} ...", flush=True)
        module = importlib.import_module(name)
        rows += module.run(quick=args.quick)
        if getattr(module, "NOTES", None):
            notes += [f"- `{name}.py`: " + " ".join(module.NOTES.split()), ""]
        if getattr(module, "SECTION", None):  # a table of its own (accuracy.py)
            sections += [module.SECTION]
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    today = datetime.date.today().isoformat()
    text = [
        "# Benchmarks",
        "",
        "Each row is measured side by side in one run of `python benchmarks/run.py`",
        "(interleaved repeats; steps/s is the best epoch after the first, as timeit takes",
        "the best time: on this shared VM epoch rates swing between ~8 and ~15 steps/s",
        "whatever runs, and interference only slows). Wall times are medians. Ratios above",
        "1 favour zoo. Re-run the command to refresh this file.",
        "",
        f"Measured {today} on: {machine()}"
        + (" (quick mode: not representative)" if args.quick else ""),
        "",
        _markdown(table),
        "",
        "Scripts: " + ", ".join(f"`{name}.py`" for name in BENCHMARKS) + " (each runs alone too).",
        "",
        *(["## Notes", "", *notes] if notes else []),
        *sections,
    ]
    output = Path(args.output)
    # accelerator.py runs alone on an accelerator (JAX, no TensorFlow): its section is
    # kept as it was written.
    previous = output.read_text() if output.exists() else ""
    kept = previous[previous.index(ACCELERATOR) :] if ACCELERATOR in previous else ""
    output.write_text("\n".join(text) + ("\n" + kept if kept else ""))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
