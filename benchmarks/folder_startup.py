"""Start-up of an image folder: zoo.data.load against keras.utils.image_dataset_from_directory.

A folder of 96x96 JPEGs in 10 class subfolders is written once. Each measurement runs
in a fresh process (TensorFlow, Keras and zoo imported before the clock starts) that
times, from the call that reads the folder (after one warm-up call of each on a tiny
folder, so lazy imports and first traces are not counted):

- *first batch*: until the first training batch is in hand;
- *first epoch*: until the training split has been read once (data only, no model):
  to its last batch where the pipeline's length is known (Keras's ``fit`` then stops
  there), to the end of the data where it is not (zoo's first load: files found bad
  while streaming may drop out; ``fit`` reads to the end, where zoo writes the
  manifest). TensorFlow's autotuner can hold the end of a pipeline's data back until
  its next wake-up (up to 2.5 s here; see ``zoo._compat.tensorflow``), which ``fit``
  never waits for on a pipeline of known length;
- *second epoch*: one more pass, measured alike;
- *peak memory*: the process's peak resident memory above what it held before the call.

zoo is measured on a first load (its manifest of the folder removed: a sample of 100
files is checked up front and the rest as the pipeline first decodes them, see
``zoo.data.images.StreamedChecks``; the end of the first epoch writes the manifest) and a
second load (the manifest remembers every file: nothing is opened before training). The
three kinds of run alternate, repeat after repeat; each row is the median repeat with
the spread of the ratios. A second table shows how zoo's first-batch time and peak
memory grow with the number of files (one run per size).
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
BATCH = 32
SECTION = None


def write_folder(root: Path, n: int, size: int = 96) -> Path:
    """`n` smooth random JPEGs (about 3 KB each) in 10 class folders; reused if present."""
    from PIL import Image

    done = root / f".complete-{n}"
    if done.exists():
        return root
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = root / f"class_{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
        image = Image.fromarray(small).resize((size, size), Image.BILINEAR)
        image.save(folder / f"{i:07d}.jpg", quality=90)
    done.touch()
    return root


def child(kind: str, root: str) -> dict:
    """One measurement in this (fresh) process."""
    import keras
    from common import current_mb, peak_mb
    from PIL import Image

    import zoo
    from zoo.data import manifest

    warm = Path(tempfile.mkdtemp(prefix="zoo-bench-warm-"))  # lazy imports, first traces
    for name in ("a", "b"):
        (warm / name).mkdir(exist_ok=True)
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 60, 0, 0)).save(warm / "ab"[i % 2] / f"{i}.png")
    next(iter(keras.utils.image_dataset_from_directory(warm, image_size=(8, 8), verbose=False)))
    next(iter(zoo.data.load(warm, batch_size=2, validation_split=0, test_split=0).train))
    if kind == "zoo-first":
        manifest.path_for(Path(root)).unlink(missing_ok=True)
    before = current_mb()
    start = time.perf_counter()
    if kind == "keras":
        train = keras.utils.image_dataset_from_directory(
            root, image_size=(96, 96), batch_size=BATCH, shuffle=True, seed=0, verbose=False
        )
    else:
        data = zoo.data.load(root, batch_size=BATCH, validation_split=0, test_split=0)
        train = data.train
    iterator = iter(train)
    next(iterator)
    first_batch = time.perf_counter() - start
    peak = peak_mb() - before
    last = time.perf_counter()
    for _ in iterator:
        last = time.perf_counter()
    end = time.perf_counter()
    # What Keras's fit waits for: the last batch when the pipeline's length is known
    # (Keras's, and zoo's once its files are checked), the end of the data when it is not
    # (zoo's first load, whose end-of-pass check also writes the manifest).
    known = int(train.cardinality()) >= 0
    first_epoch = (last if known else end) - start
    wait_at_end = end - last
    again = time.perf_counter()
    for _ in train:
        last = time.perf_counter()
    second_epoch = (last if known else time.perf_counter()) - again
    return {
        "first_batch": first_batch,
        "first_epoch": first_epoch,
        "second_epoch": second_epoch,
        "peak_mb": peak,
        "wait_at_end": wait_at_end,
    }


def _measure(kind: str, root: Path, cache: str) -> dict:
    from common import child_result

    return child_result(__file__, ["--child", kind, "--dir", str(root)], ZOO_CACHE_DIR=cache)


def run(quick: bool = False, folder: str | None = None) -> list[dict]:

    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as scratch:
        if folder is None:  # the full run's folders are kept in /tmp for the next run
            folder = scratch if quick else Path(tempfile.gettempdir()) / "zoo-folder-startup"
        return _run(quick, Path(folder), str(Path(scratch) / "cache"))


def _run(quick: bool, base: Path, cache: str) -> list[dict]:
    from common import row

    n, repeats, sizes = (300, 1, (300,)) if quick else (20_000, 5, (1_000, 10_000, 100_000))
    root = write_folder(base / f"n{n}", n)
    runs = {"keras": [], "zoo-first": [], "zoo-second": []}
    for _ in range(repeats):  # alternating: noise hits every side alike
        for kind in runs:
            runs[kind].append(_measure(kind, root, cache))
            print(kind, {k: round(v, 3) for k, v in runs[kind][-1].items()}, flush=True)
    rows = []
    targets = {
        ("zoo-first", "first_batch"): "<= 2.0x keras (lower is better)",
        ("zoo-second", "first_batch"): "<= 1.2x keras",
        ("zoo-first", "first_epoch"): "<= 1.2x keras",
        ("zoo-second", "second_epoch"): "(info)",
    }
    for (kind, measure), target in targets.items():
        ratios = [z[measure] / k[measure] for z, k in zip(runs[kind], runs["keras"], strict=True)]
        middle = int(np.argsort(ratios)[len(ratios) // 2])
        label = {
            "zoo-first": "first load",
            "zoo-second": "second load (manifest)",
        }[kind]
        what = measure.replace("_", " ")
        rows.append(
            row(
                f"{n:,}-file folder, {label}: time to {what} vs image_dataset_from_directory "
                f"(median of {repeats}, keras/zoo ratios "
                f"{min(1 / r for r in ratios):.2f}-{max(1 / r for r in ratios):.2f})",
                runs[kind][middle][measure],
                runs["keras"][middle][measure],
                "s",
                target,
                higher=False,
            )
        )
    global SECTION
    lines = [
        "## Image-folder start-up by folder size",
        "",
        "One run per size (`benchmarks/folder_startup.py`): 96x96 JPEGs, time to the first "
        "training batch and peak memory above the process's before the call.",
        "",
        "| files | keras first batch (s) | zoo first load (s) | zoo second load (s) "
        "| keras peak (MB) | zoo first-load peak (MB) | zoo second-load peak (MB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        if size == n:  # the main comparison's last repeat
            got = {kind: measured[-1] for kind, measured in runs.items()}
        else:
            sized = write_folder(base / f"n{size}", size)
            got = {kind: _measure(kind, sized, cache) for kind in runs}
        lines.append(
            f"| {size:,} | {got['keras']['first_batch']:.2f} | "
            f"{got['zoo-first']['first_batch']:.2f} | {got['zoo-second']['first_batch']:.2f} | "
            f"{got['keras']['peak_mb']:.0f} | {got['zoo-first']['peak_mb']:.0f} | "
            f"{got['zoo-second']['peak_mb']:.0f} |"
        )
        print(lines[-1], flush=True)
    SECTION = "\n".join(lines) + "\n"
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    parser.add_argument("--dir", help="where the folders are written (kept for reuse)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir)))
    else:
        sys.path.insert(0, str(HERE))
        for result in run(args.quick, args.dir):
            print(result)
        print(SECTION)
