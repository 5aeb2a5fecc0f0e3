"""The ``zoo`` command line: list and build architectures, and run the demo."""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

EPILOG = """examples:
  zoo demo                         train a CNN on the bundled digits and save it
  zoo list 'resnet_*'              table of ResNets with parameter counts
  zoo build resnet_20 --num-classes 100 --save cifar100_resnet20
  zoo build mlp --set units=(256,128) --set dropout=0.2
"""


def _parse_value(text: str) -> Any:
    """Parse a command-line value as a Python literal, else keep it as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_shape(text: str) -> tuple[int | None, ...]:
    parts = [p.strip() for p in text.strip("()[] ").split(",") if p.strip()]
    try:
        return tuple(None if p.lower() == "none" else int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--input-shape must be comma-separated integers such as 32,32,3. Received: {text!r}"
        ) from None


def _parse_setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(
            f"--set must look like KEY=VALUE, for example units=(64,32). Received: {text!r}"
        )
    return key.strip(), _parse_value(value.strip())


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zoo`` command."""
    from zoo import __version__

    parser = argparse.ArgumentParser(
        prog="zoo",
        description="zoo: a Keras 3 model zoo and transfer-learning toolkit.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train a CNN on the bundled 8x8 digits (offline), report test accuracy "
        "and save it under saved_models/",
        description="Train zoo's convnet_digits on scikit-learn's 8x8 digits, print "
        "test accuracy and save the model with its card.",
    )
    demo.add_argument("--epochs", type=int, default=40, help="maximum epochs (default 40)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument(
        "--output",
        default="digits_convnet",
        help="name under saved_models/ or a folder (default digits_convnet)",
    )

    listing = commands.add_parser(
        "list",
        help="list architectures and presets with parameter counts",
        description="Print every registered architecture and preset as a table.",
    )
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")
    listing.add_argument("--family", help="only this family (mlp, cnn, rnn, resnet, ...)")

    build = commands.add_parser(
        "build",
        help="build an architecture by name, print its summary, optionally save it",
        description="Build an architecture by name and print its summary.",
    )
    build.add_argument("name", help="an architecture or preset name (see `zoo list`)")
    build.add_argument("--input-shape", type=_parse_shape, help="for example 32,32,3")
    build.add_argument("--num-classes", type=_parse_value, help="classes, or None for headless")
    build.add_argument(
        "--set",
        dest="settings",
        type=_parse_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any builder argument, as a Python literal (repeatable)",
    )
    build.add_argument("--save", metavar="NAME_OR_PATH", help="save the model with its card")
    return parser


def run_demo(
    output: str = "digits_convnet", epochs: int = 40, seed: int = 0, verbose: Any = None
) -> dict[str, Any]:
    """Train ``convnet_digits`` on the bundled digits, evaluate and save it.

    Returns:
        ``{"test_accuracy", "test_loss", "epochs", "path", "seconds"}``.
    """
    import keras
    import numpy as np

    import zoo
    from zoo import _validation as v

    epochs = v.check_int("epochs", epochs, minimum=1)
    seed = v.check_int("seed", seed, minimum=0)
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    splits = zoo.data.load_digits(seed=seed)
    print(
        f"zoo demo: {len(splits.x_train)} train / {len(splits.x_val)} validation / "
        f"{len(splits.x_test)} test images of 8x8 digits (scikit-learn, bundled)"
    )
    model = zoo.build(
        "convnet_digits", input_shape=splits.input_shape, num_classes=splits.num_classes
    )
    print(f"model: convnet_digits, {model.count_params():,} parameters")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=8, restore_best_weights=True)
    history = model.fit(
        splits.x_train,
        splits.y_train,
        validation_data=(splits.x_val, splits.y_val),
        epochs=epochs,
        batch_size=32,
        callbacks=[stop],
        verbose=verbose,
    )
    loss, accuracy = model.evaluate(splits.x_test, splits.y_test, verbose=0)
    trained = len(history.history["loss"])
    best = int(np.argmin(history.history["val_loss"])) + 1
    path = zoo.save(
        model,
        output,
        data={
            "source": "digits",
            "train": len(splits.x_train),
            "test": len(splits.x_test),
        },
        metrics={"test_accuracy": float(accuracy), "test_loss": float(loss)},
        training={
            "optimizer": "adam",
            "learning_rate": 1e-3,
            "epochs": trained,
            "seed": seed,
        },
    )
    seconds = time.perf_counter() - start
    print(
        f"test accuracy: {accuracy:.4f} (test loss {loss:.4f}), weights of epoch {best} "
        f"(best validation loss) of {trained}"
    )
    print(f"saved to {path}/ (model.keras + zoo.json) in {seconds:.1f} s")
    return {
        "test_accuracy": float(accuracy),
        "test_loss": float(loss),
        "epochs": trained,
        "best_epoch": best,
        "path": path,
        "seconds": seconds,
    }


def _list(args: argparse.Namespace) -> None:
    import zoo

    table = zoo.list_architectures(args.pattern)
    if args.family:
        table = table[table["family"] == args.family]
    if table.empty:
        print(f"No architecture matches {args.pattern!r}. Try `zoo list` for all names.")
        return
    table = table.assign(params=table["params"].map("{:,}".format))
    text_columns = ["name", "family", "task", "description"]
    formatters = {
        column: f"{{:<{table[column].str.len().max()}}}".format for column in text_columns
    }
    print(table.to_string(index=False, justify="left", formatters=formatters))


def _build(args: argparse.Namespace) -> None:
    import zoo

    overrides = dict(args.settings)
    if args.input_shape is not None:
        overrides["input_shape"] = args.input_shape
    if args.num_classes is not None:
        overrides["num_classes"] = args.num_classes
    model = zoo.build(args.name, **overrides)
    model.summary()
    if args.save:
        print(f"saved to {zoo.save(model, args.save)}")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and list devices with its C++ start-up log lines hidden.

    TF 2.21 writes oneDNN/CUDA notices to file descriptor 2 through absl, ignoring
    TF_CPP_MIN_LOG_LEVEL. They are captured and shown only if the import fails, or
    always with ZOO_TF_LOGS=1.
    """
    if os.environ.get("ZOO_TF_LOGS") == "1":
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``zoo`` command; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _import_tensorflow_quietly()
    from zoo._validation import ArgumentTypeError, ArgumentValueError

    try:
        if args.command == "demo":
            run_demo(output=args.output, epochs=args.epochs, seed=args.seed)
        elif args.command == "list":
            _list(args)
        elif args.command == "build":
            _build(args)
    except (
        ArgumentValueError,
        ArgumentTypeError,
        FileNotFoundError,
        FileExistsError,
    ) as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
