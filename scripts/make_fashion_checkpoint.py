"""Remake zoo's shipped checkpoint ``zoo/checkpoints/fashion_convnet_pretrained``.

Trains a compact CNN (zoo's convnet backbone, 32 and 64 filters with batch norm, and
a 64-unit embedding) on Fashion-MNIST's official training split and saves it with its
model card, which records the accuracy on the official 10,000-image test set. Needs
the dataset's files (``zoo datasets`` says where they are looked for; Debian's
``dataset-fashion-mnist`` installs them); about 4 minutes on 2 CPU cores.

Usage:
    python scripts/make_fashion_checkpoint.py [--output zoo/checkpoints/NAME] [--epochs 5]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Train and save the checkpoint."""
    from zoo.transfer import fashion

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "zoo" / "checkpoints" / fashion.CHECKPOINT))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args()
    result = fashion.pretrain_checkpoint(
        args.output,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        seed=args.seed,
        verbose=args.verbose,
    )
    print(
        f"saved {result['path']}: accuracy {result['accuracy']:.4f} on Fashion-MNIST's "
        f"official test set after {result['epochs']} epochs, {result['seconds']:.0f} s, "
        f"model.keras {result['size_bytes'] / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
