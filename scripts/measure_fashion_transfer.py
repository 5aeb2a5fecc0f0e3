"""Measure the Fashion-MNIST checkpoint's transfer to the bundled digits at 28x28.

For 1, 5 and 10 labelled images per digit (drawn per seed, stratified, with one more
per digit for validation; every other digit is tested), fine-tunes the shipped
``fashion_convnet_pretrained`` with ``zoo.transfer.fine_tune`` (a fresh 10-class
head; two recipes, ``zoo.transfer.fashion.RECIPES``: ``demo``, 60 head epochs then 20
of everything at 1e-4 as ``zoo demo`` does, and ``full``, 20 head epochs then 60 of
everything at 1e-3 with batch-norm statistics re-learned) against the same network
from scratch (``zoo.train``, 80 epochs at 1e-3), and prints one row per run and the
gain per label count. Offline; about 9 minutes on 2 busy CPU cores for 5 seeds.

Usage:
    python scripts/measure_fashion_transfer.py [--seeds 5] [--per-class 1 5 10]
"""

import argparse
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    """Run every (labels per class, seed) pair and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--per-class", type=int, nargs="+", default=[1, 5, 10])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # feature caches stay out of the user's saved_models/
        os.environ["ZOO_SAVED_MODELS"] = folder
        import pandas as pd
        from tqdm.auto import tqdm

        from zoo.transfer import fashion

        runs = [(k, seed) for k in args.per_class for seed in range(args.seeds)]
        rows = []
        for per_class, seed in tqdm(runs, desc="fine-tuned vs scratch"):
            result = fashion.transfer_trial(per_class, seed=seed)
            row = {"labels_per_class": per_class, "seed": seed, "scratch": result["scratch"]}
            for recipe, accuracy in result["fine_tuned"].items():
                row[f"fine_tuned_{recipe}"] = accuracy
                row[f"gain_{recipe}"] = result["gain_points"][recipe]
            row["test_images"] = result["sizes"]["test"]
            row["seconds"] = result["seconds"]
            rows.append(row)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    columns = {"scratch": ("scratch", "mean")}
    for recipe in fashion.RECIPES:
        columns[f"fine_tuned_{recipe}"] = (f"fine_tuned_{recipe}", "mean")
        for stat in ("mean", "min", "max"):
            columns[f"{stat}_gain_{recipe}"] = (f"gain_{recipe}", stat)
    columns["seeds"] = ("seed", "count")
    summary = table.groupby("labels_per_class").agg(**columns)
    print()
    print(summary.to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"total {table['seconds'].sum():.0f} s")


if __name__ == "__main__":
    main()
