"""The ``zoo`` command line: list and build architectures, and run the demo."""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EPILOG = """examples:
  zoo demo                         fine-tune zoo's pretrained digits CNN with few labels,
                                   against training from scratch
  zoo finetune mobilenet_v3_small --data photos/ --epochs 5 --fine-tune-epochs 5
  zoo finetune digits_convnet_pretrained --data digits --unfreeze 2
  zoo train convnet_digits --data digits --epochs 20
  zoo train mlp --data table.csv --target price --set units=(64,32)
  zoo evaluate convnet_digits --data digits
  zoo predict convnet_digits scans/ --top 3 --output predictions.csv   a row per image
  zoo tune mlp --data digits --max-trials 10 --space "units=[(64,), (128, 64)]"
  zoo tune convnet --data digits --max-trials 20 --workers 2   2 supervised worker processes
  zoo tune image_classifier --data photos/ --space "backbone=['mobilenet_v2', 'efficientnet_b0']"
  zoo launch --workers 2 -- zoo train mlp --data digits --strategy multiworker
  zoo list 'resnet_*'              table of ResNets with parameter counts
  zoo build resnet_20 --num-classes 100 --save cifar100_resnet20
  zoo build mlp --set units=(256,128) --set dropout=0.2
  zoo weights pull resnet_50.keras_in1k  prefetch checked ImageNet weights (--mirror URL)
  zoo weights list                 which backbones have ImageNet weights on disk
  zoo export convnet_digits --format onnx   checked saved_models/convnet_digits/export/model.onnx
  zoo export convnet_digits --format tflite --output digits.tflite
  zoo doctor                       versions, devices, offline weights, writable folders
"""


DEBUG_HELP = "show the full traceback of an error (also ZOO_DEBUG=1)"


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


def _number(kind: type, minimum: float, *, inclusive: bool = True):
    """An argparse type: a `kind` number >= `minimum` (> with ``inclusive=False``)."""
    bound = f">= {minimum}" if inclusive else f"> {minimum}"
    noun = "an integer" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (not inclusive and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {noun} {bound}. Received: {text!r}")
        return value

    parse.__name__ = f"{kind.__name__} {bound}"  # argparse names the type in some errors
    return parse


_POSITIVE = _number(int, 1)
_COUNT = _number(int, 0)
_RATE = _number(float, 0.0, inclusive=False)


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
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="fine-tune zoo's shipped pretrained CNN on a new task with few labels "
        "(offline) and compare it with training from scratch",
        description="Fine-tune zoo's shipped digits_convnet_pretrained (ten digits, half A "
        "of scikit-learn's 8x8 digits) to tell small (0-4) from large (5-9) digits of the "
        "other half with PER_DIGIT labelled images of each digit, train the same network "
        "from scratch on the same labels and epochs, and print both test accuracies. "
        "With --train, train convnet_digits on all digits instead.",
    )
    demo.add_argument(
        "--per-digit", type=_POSITIVE, default=1, help="labelled images per digit (default 1)"
    )
    demo.add_argument("--epochs", type=_POSITIVE, help="head epochs (default 60; --train: 40)")
    demo.add_argument(
        "--fine-tune-epochs", type=_COUNT, default=20, help="fine-tuning epochs (default 20)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--train", action="store_true", help="the training demo instead")
    demo.add_argument(
        "--output",
        help="name under saved_models/ or a folder (default digits_small_large_finetuned; "
        "--train: digits_convnet)",
    )

    finetune = commands.add_parser(
        "finetune",
        help="fine-tune a pretrained backbone or saved model on a data source",
        description="Put a fresh head on BACKBONE (a name from `zoo weights list`, or a "
        "saved zoo model), train it with the backbone frozen (on cached features), then "
        "unfreeze and train on at a lower learning rate; print metrics and save the "
        "model with its card.",
    )
    finetune.add_argument("backbone", metavar="BACKBONE", help="backbone name or saved model")
    _add_data_arguments(finetune)
    finetune.add_argument("--epochs", type=_POSITIVE, default=5, help="head epochs (default 5)")
    finetune.add_argument(
        "--fine-tune-epochs", type=_COUNT, default=5, help="fine-tuning epochs (default 5)"
    )
    finetune.add_argument("--learning-rate", type=_RATE, default=1e-3, help="head rate")
    finetune.add_argument(
        "--fine-tune-learning-rate", type=_RATE, help="default: learning rate / 10"
    )
    finetune.add_argument(
        "--unfreeze",
        type=_parse_value,
        default="all",
        help="all, the number of top backbone layers, or a layer name (default all)",
    )
    finetune.add_argument("--layer-decay", type=_RATE, help="layer-wise rate factor in (0, 1]")
    finetune.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet, none or a weights file (backbone names only)",
    )
    finetune.add_argument("--no-cache", action="store_true", help="no feature cache")
    finetune.add_argument(
        "--strategy", default="auto", help="auto, cpu, gpu, mirrored, tpu (backbone names)"
    )
    finetune.add_argument("--output", help="name under saved_models/ or a folder")
    finetune.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    finetune.add_argument("--no-save", action="store_true", help="do not save the model")

    listing = commands.add_parser(
        "list",
        help="list the catalogue (architectures, pretrained backbones, checkpoints)",
        description="Print the catalogue as a table: zoo's architectures and presets, "
        "keras.applications backbones (NAME.keras_in1k), keras-hub presets, TF Hub "
        "modules and shipped checkpoints, with parameter counts and whether their "
        "weights are on disk.",
    )
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")
    listing.add_argument("--family", help="only this family (mlp, cnn, rnn, resnet, ...)")
    listing.add_argument(
        "--source",
        choices=("zoo", "keras.applications", "keras-hub", "tfhub", "checkpoint"),
        help="only rows from this source",
    )
    listing.add_argument(
        "--pretrained", action="store_true", help="only rows with pretrained weights"
    )

    commands.add_parser(
        "datasets",
        help="list the datasets known by name and where each is on disk",
        description="Print the standard datasets (mnist, fashion_mnist, cifar10, cifar100, "
        "imdb, reuters, with their official split sizes) and the bundled ones, with the "
        "folder each was found in ($ZOO_DATA_DIR, Keras's cache, system copies); "
        "zoo.data.load downloads a missing one unless ZOO_OFFLINE=1.",
    )

    build = commands.add_parser(
        "build",
        help="build an architecture by name, print its summary, optionally save it",
        description="Build an architecture by name and print its summary.",
    )
    build.add_argument("name", help="an architecture or preset name (see `zoo list`)")
    build.add_argument("--input-shape", type=_parse_shape, help="for example 32,32,3")
    build.add_argument("--num-classes", type=_parse_value, help="classes, or None for headless")
    _add_set_argument(build)
    build.add_argument("--save", metavar="NAME_OR_PATH", help="save the model with its card")

    train = commands.add_parser(
        "train",
        help="train an architecture on a data source, evaluate it and save it",
        description="Build ARCH for the data, train it (with early stopping, TensorBoard "
        "logs and resumable backups), print test metrics and save it with its card.",
    )
    train.add_argument("name", metavar="ARCH", help="an architecture or preset name")
    _add_data_arguments(train)
    train.add_argument("--epochs", type=_POSITIVE, default=20, help="maximum epochs (default 20)")
    train.add_argument(
        "--learning-rate", type=_RATE, help="learning rate (default 1e-3 or the model's own)"
    )
    train.add_argument("--early-stopping", type=_COUNT, default=5, help="patience; 0 disables")
    train.add_argument(
        "--strategy", default="auto", help="auto, cpu, gpu, mirrored, tpu, multiworker"
    )
    train.add_argument("--mixed-precision", default="auto", help="auto, off, mixed_float16, ...")
    train.add_argument("--output", help="name under saved_models/ or a folder")
    train.add_argument("--resume", action="store_true", help="continue a killed run")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--no-save", action="store_true", help="do not save the model")
    _add_set_argument(train)

    tune = commands.add_parser(
        "tune",
        help="search an architecture's hyperparameters with Keras Tuner (resumable)",
        description="Search ARCH's default search space (changed with --space) on a data "
        "source with one line per trial, print the trials table and the best "
        "hyperparameters, and save the best model with a card that records the search. "
        "Run the same command again to resume a stopped search.",
    )
    tune.add_argument(
        "name",
        metavar="ARCH",
        help="an architecture or preset name, or image_classifier / text_classifier "
        "(a pretrained backbone or preset, itself a choice in the space)",
    )
    _add_data_arguments(tune)
    tune.add_argument("--algorithm", default="random", help="random, grid, bayesian or hyperband")
    tune.add_argument("--max-trials", type=_POSITIVE, default=10, help="most trials (default 10)")
    tune.add_argument("--epochs", type=_POSITIVE, default=5, help="epochs per trial (default 5)")
    tune.add_argument(
        "--objective", help="metric to optimise (default val_accuracy, a GAN's val_mmd, val_loss)"
    )
    tune.add_argument("--direction", help="min or max (default: min for losses)")
    tune.add_argument("--early-stopping", type=_COUNT, help="patience within a trial")
    tune.add_argument(
        "--space",
        dest="space",
        type=_parse_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a search space entry as a Python literal: a list is a choice, "
        "{'min': ..., 'max': ..., 'sampling': 'log'} a range, None drops it (repeatable)",
    )
    tune.add_argument(
        "--strategy", default="auto", help="auto, cpu, gpu, mirrored, tpu, multiworker"
    )
    tune.add_argument("--directory", help="searches folder (default saved_models/.tuning)")
    tune.add_argument(
        "--project-name",
        help="the search's folder (default: ARCH-<first 8 hex digits of the data fingerprint>)",
    )
    tune.add_argument("--overwrite", action="store_true", help="start afresh, do not resume")
    tune.add_argument("--output", help="best model's name or folder (default ARCH_tuned)")
    tune.add_argument(
        "--workers",
        type=_COUNT,
        default=0,
        help="run Keras Tuner's chief and N supervised worker processes on 127.0.0.1",
    )
    tune.add_argument(
        "--trials-per-process", type=_POSITIVE, help="restart a worker after this many trials"
    )
    tune.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    tune.add_argument("--no-save", action="store_true", help="do not save the best model")

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a saved model on a data source (metrics, per-class report)",
        description="Load MODEL (a name under saved_models/ or a path) and evaluate it.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="saved model name or path")
    _add_data_arguments(evaluate, augment=False)
    evaluate.add_argument("--split", default="test", choices=["test", "validation"])

    launch = commands.add_parser(
        "launch",
        help="run a command as N local TensorFlow workers (multi-worker training)",
        description="Start N workers on 127.0.0.1 with the right TF_CONFIG and supervise "
        "them: if one fails the others are stopped. With TF_CONFIG already set or "
        "under Slurm, runs the command once as this node's worker.",
    )
    launch.add_argument(
        "--workers", type=_POSITIVE, default=2, help="number of workers (default 2)"
    )
    launch.add_argument("--timeout", type=_RATE, help="stop everything after this many seconds")
    launch.add_argument("worker_command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")

    weights = commands.add_parser(
        "weights",
        help="prefetch (pull) or list the ImageNet weights of the image backbones",
        description="Download backbones' headless ImageNet weights with checksum "
        "verification, optionally from a mirror, or list which are on disk.",
    )
    weights_actions = weights.add_subparsers(dest="weights_action", metavar="ACTION")
    weights_actions.required = True
    pull = weights_actions.add_parser(
        "pull",
        help="download and verify weights files (exit status 1 if any fails)",
        description="Download the headless ImageNet weights of each NAME (or 'all') into "
        "$ZOO_WEIGHTS_DIR or Keras's cache, verify each checksum, and print a table. "
        "Exits with status 1 if any file failed.",
    )
    pull.add_argument("names", nargs="+", metavar="NAME", help="backbone names, or 'all'")
    pull.add_argument(
        "--mirror", metavar="URL", help="base URL or folder holding the files ($ZOO_WEIGHTS_MIRROR)"
    )
    pull.add_argument("--folder", metavar="DIR", help="where to put the files")
    pull.add_argument("--force", action="store_true", help="download even if a good copy exists")
    pull.add_argument("--quiet", action="store_true", help="no progress bars")
    weights_list = weights_actions.add_parser(
        "list",
        help="which backbones have ImageNet weights on disk",
        description="Print each backbone's weights file and whether it is on disk.",
    )
    weights_list.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")

    export = commands.add_parser(
        "export",
        help="export a saved model as a SavedModel, TFLite or ONNX file, checked",
        description="Load MODEL (a name under saved_models/ or a path), export it, run the "
        "artifact next to the Keras model on random inputs and print the path, the size and "
        "the largest difference. The artifact replaces an earlier one only if the difference "
        "is within the tolerance; otherwise the command exits with status 1.",
    )
    export.add_argument("model", metavar="MODEL", help="saved model name or path")
    export.add_argument(
        "--format",
        default="saved_model",
        choices=["saved_model", "tflite", "onnx"],
        help="saved_model (default), tflite, or onnx (pip install 'zoo[export]')",
    )
    export.add_argument(
        "--output",
        metavar="PATH",
        help="file or folder (default: MODEL's folder/export/model.onnx, model.tflite or "
        "saved_model/)",
    )
    export.add_argument(
        "--tolerance",
        type=_number(float, 0.0),
        help="largest absolute difference allowed (default 1e-4; 1e-2 for mixed precision)",
    )

    predict = commands.add_parser(
        "predict",
        help="predict with a saved model: image files or folders, texts, CSV files",
        description="Load MODEL (a name under saved_models/ or a path) and print one row "
        "per input: the input, the predicted class and its probability, and each class's "
        "probability (a value for regressors). Inputs follow the model: image files or "
        "folders of images for image models, texts (or existing text files and folders) "
        "for text models, CSV files for table models, .npy arrays.",
    )
    predict.add_argument("model", metavar="MODEL", help="saved model name or path")
    predict.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files or folders, texts, text files, CSV files or .npy files",
    )
    predict.add_argument(
        "--top", type=_POSITIVE, metavar="K", help="only the K most probable classes per row"
    )
    predict.add_argument(
        "--output", metavar="FILE.csv", help="write the table to this CSV file instead"
    )
    predict.add_argument("--batch-size", type=_POSITIVE, default=32, help="batch size (default 32)")

    commands.add_parser(
        "doctor",
        help="check the installation: versions, devices, offline weights, writable folders",
        description="Print the versions of zoo's dependencies, the devices TensorFlow sees "
        "and what strategy='auto' and mixed_precision='auto' would pick, which ImageNet "
        "weights are on disk, and whether zoo's folders are writable, each with ok, warn or "
        "fail and a fix. Exits with status 1 when a check failed.",
    )
    for command in [*commands.choices.values(), *weights_actions.choices.values()]:
        # Also after the command (`zoo train ... --debug`); SUPPRESS keeps `zoo --debug`.
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


def _add_set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="settings",
        type=_parse_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any builder argument, as a Python literal (repeatable)",
    )


def _add_data_arguments(parser: argparse.ArgumentParser, *, augment: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=True,
        metavar="SOURCE",
        help="a dataset name (see `zoo datasets`), a CSV, a folder or tfds:NAME",
    )
    parser.add_argument(
        "--test",
        metavar="SOURCE",
        help="a fixed test set (a CSV or folder) kept as it is, instead of one carved from --data",
    )
    parser.add_argument(
        "--validation", metavar="SOURCE", help="a fixed validation set (a CSV or folder)"
    )
    parser.add_argument("--target", help="target column of a CSV")
    parser.add_argument(
        "--categorical",
        nargs="+",
        metavar="COLUMN",
        help="table columns to one-hot encode although they hold numbers (codes, ids)",
    )
    parser.add_argument(
        "--series", choices=["wide", "long"], help="read a CSV as time series, wide or long"
    )
    parser.add_argument("--id-column", help="the series id column (--series long)")
    parser.add_argument("--time-column", help="the column ordering each series (--series long)")
    parser.add_argument("--batch-size", type=_POSITIVE, default=32, help="batch size (default 32)")
    parser.add_argument(
        "--memory-budget",
        metavar="BYTES",
        help="stream a CSV that would take more read whole (e.g. 512M; default RAM/4)",
    )
    parser.add_argument("--image-size", type=_parse_shape, help="resize images, for example 64,64")
    if augment:  # training commands only: evaluation never augments
        parser.add_argument(
            "--augment", action="store_true", help="random flip/rotation/zoom/contrast"
        )
    parser.add_argument(
        "--task",
        help="classification, regression, autoencoder, language_modeling or generative "
        "(default: the architecture's, else the data's)",
    )
    parser.add_argument(
        "--sequence-length", type=_POSITIVE, help="tokens per text, or per window of a corpus"
    )
    parser.add_argument(
        "--tokenizer", default="character", help="character or word (language modelling)"
    )


def _load_options(args: argparse.Namespace, model_or_name: Any) -> dict[str, Any]:
    """``zoo.data.load`` arguments from the data options (a corpus for language models)."""
    from zoo import tasks

    options = {
        "target": args.target,
        **({"categorical": tuple(args.categorical)} if args.categorical else {}),
        **{k: getattr(args, k) for k in ("series", "id_column", "time_column") if getattr(args, k)},
        "batch_size": args.batch_size,
        "image_size": args.image_size,
        "augment": getattr(args, "augment", False) or None,
        **({"test": args.test} if args.test else {}),
        **({"validation": args.validation} if args.validation else {}),
        **({"memory_budget": args.memory_budget} if args.memory_budget else {}),
    }
    if args.sequence_length is not None:
        options["sequence_length"] = args.sequence_length
    if tasks.data_task(args.task, model_or_name) == "language_modeling":
        options.update(task="language_modeling", tokenizer=args.tokenizer)
        del options["target"], options["augment"], options["image_size"]
        options.pop("categorical", None)
        options.pop("memory_budget", None)
    return options


def _load_data(args: argparse.Namespace, model_or_name: Any = None, **options):
    import zoo

    return zoo.data.load(args.data, **_load_options(args, model_or_name), **options)


def _print_tables(metrics, report, confusion) -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.precision", 4):
        print("metrics:")
        print(pd.Series(metrics, dtype="float64").to_string())
        if report is not None:
            print("per class:")
            print(report.to_string())
        if confusion is not None and len(confusion) <= 20:
            print("confusion matrix (rows: true, columns: predicted):")
            print(confusion.to_string())


def run_transfer_demo(
    output: str | None = None,
    *,
    per_digit: int = 1,
    epochs: int | None = None,
    fine_tune_epochs: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """``zoo demo``: fine-tune the shipped checkpoint, compare with from scratch."""
    import pandas as pd

    from zoo.transfer import demo

    checkpoint = demo.find_checkpoint()
    print(
        f"zoo demo: fine-tune {checkpoint} (pretrained on ten digits, half A of the bundled "
        f"8x8 digits) to tell small (0-4) from large (5-9) digits of half B with {per_digit} "
        "labelled image(s) per digit; the same network from scratch gets the same labels "
        "and epochs"
    )
    result = demo.run_demo(
        per_digit=per_digit,
        epochs=60 if epochs is None else epochs,
        fine_tune_epochs=fine_tune_epochs,
        seed=seed,
        output=output or "digits_small_large_finetuned",
    )
    sizes = result["sizes"]
    with pd.option_context("display.width", 160, "display.precision", 4):
        print(result["stages"].to_string(index=False))
    print(
        f"labelled: {sizes['train']} train + {sizes['validation']} validation, "
        f"test: {sizes['test']} images"
    )
    print(f"test accuracy, fine-tuned:   {result['fine_tuned_accuracy']:.4f}")
    print(f"test accuracy, from scratch: {result['scratch_accuracy']:.4f}")
    print(f"gain: {result['gain_points']:+.1f} points ({result['seconds']:.1f} s)")
    print(f"saved to {result['path']}/ (model.keras + zoo.json + history.csv)")
    return result


def _finetune(args: argparse.Namespace) -> None:
    import zoo

    weights = None if str(args.weights).lower() == "none" else args.weights
    data = args.data
    if args.augment or args.target or args.batch_size != 32:
        data = _load_data(args)
    result = zoo.transfer.fine_tune(
        args.backbone,
        data,
        image_size=args.image_size if data is args.data else None,
        epochs=args.epochs,
        fine_tune_epochs=args.fine_tune_epochs,
        learning_rate=args.learning_rate,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
        unfreeze=args.unfreeze,
        layer_decay=args.layer_decay,
        weights=weights,
        cache_features=False if args.no_cache else "auto",
        strategy=args.strategy,
        output=args.output,
        save=not args.no_save,
        seed=args.seed,
    )
    print(result.stages.to_string(index=False))
    _print_tables(result.metrics, result.report, result.confusion)
    if result.path is not None:
        print(f"saved to {result.path}/ (model.keras + zoo.json + history.csv)")


def run_demo(
    output: str = "digits_convnet", epochs: int = 40, seed: int = 0, verbose: Any = "auto"
) -> dict[str, Any]:
    """Train ``convnet_digits`` on the bundled digits with zoo.train, evaluate, save.

    Returns:
        ``{"test_accuracy", "metrics", "epochs", "path", "seconds"}``.
    """
    import zoo
    from zoo import _validation as v

    epochs = v.check_int("epochs", epochs, minimum=1)
    start = time.perf_counter()
    data = zoo.data.load("digits", seed=seed)
    print(
        f"zoo demo: {data.sizes['train']} train / {data.sizes['validation']} validation / "
        f"{data.sizes['test']} test images of 8x8 digits (scikit-learn, bundled)"
    )
    result = zoo.train(
        "convnet_digits",
        data,
        epochs=epochs,
        early_stopping=8,
        output=output,
        seed=seed,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    _print_tables(result.metrics, result.report, None)
    accuracy = result.metrics["accuracy"]
    print(f"test accuracy: {accuracy:.4f} after {len(result.history)} epochs")
    print(f"saved to {result.path}/ (model.keras + zoo.json) in {seconds:.1f} s")
    return {
        "test_accuracy": accuracy,
        "metrics": result.metrics,
        "epochs": len(result.history),
        "path": result.path,
        "seconds": seconds,
    }


def _catalogue_table(pattern: str, source: str | None, pretrained: bool):
    """``zoo.list_architectures(pattern, ...)`` from the cached catalogue (see _catalogue)."""
    import fnmatch

    import pandas as pd

    catalogue = _catalogue(rows=True)
    old_names: dict[str, list[str]] = {}
    for old, row in catalogue["deprecated"].items():
        old_names.setdefault(row, []).append(old)

    def chosen(row: dict[str, Any]) -> bool:
        names = [row["name"], row["name"].partition(".")[0], *old_names.get(row["name"], [])]
        return (
            any(fnmatch.fnmatchcase(name, pattern) for name in names)
            and (source is None or row["source"] == source)
            and (not pretrained or row["weights"] is not None)
        )

    table = pd.DataFrame([row for row in catalogue["rows"] if chosen(row)])
    if table.empty:
        return table
    return table.astype({"params": "Int64", "offline": bool})


def _datasets() -> None:
    import pandas as pd

    from zoo.data.bundled import list_datasets

    table = list_datasets()
    table = table.assign(
        train=table["train"].map(lambda n: "" if pd.isna(n) else f"{n:,}"),
        test=table["test"].map(lambda n: "" if pd.isna(n) else f"{n:,}"),
        on_disk=table["on_disk"].fillna("no"),
    )
    columns = ["name", "task", "train", "test", "on_disk", "about"]
    formatters = {
        column: f"{{:<{max(table[column].str.len().max(), len(column))}}}".format
        for column in ["name", "task", "on_disk", "about"]
    }
    print(table[columns].to_string(index=False, justify="left", formatters=formatters))
    if (table["on_disk"] == "no").any():
        print(
            "\nA dataset that is not on disk is downloaded by Keras on its first "
            "zoo.data.load, unless ZOO_OFFLINE=1; or place its files in $ZOO_DATA_DIR "
            "(see zoo.data.standard)."
        )


def _list(args: argparse.Namespace) -> None:
    import pandas as pd

    table = _catalogue_table(args.pattern, args.source, args.pretrained)
    if args.family and not table.empty:
        table = table[table["family"] == args.family]
    if table.empty:
        print(f"No architecture matches {args.pattern!r}. Try `zoo list` for all names.")
        return

    def notes(row) -> str:
        text = row["description"]
        if isinstance(row["layout"], str):
            text = f"[{row['layout']}] {text}"
        if isinstance(row["aliases"], str):
            text += f" Also: {row['aliases']}."
        return text

    table = table.assign(
        params=table["params"].map(lambda n: "" if pd.isna(n) else f"{n:,}"),
        offline=table["offline"].map({True: "yes", False: "no"}),
        description=table.apply(notes, axis=1),
    )[["name", "family", "task", "params", "source", "offline", "description"]]
    formatters = {
        column: f"{{:<{max(table[column].str.len().max(), len(column))}}}".format
        for column in ["name", "family", "task", "source", "offline", "description"]
    }
    print(table.to_string(index=False, justify="left", formatters=formatters))


def _train(args: argparse.Namespace) -> None:
    import zoo

    # The strategy comes first: multi-worker collectives must be set up before any op.
    strategy = zoo.distribute.strategy(args.strategy)
    data = _load_data(args, args.name)
    print(f"data: {data}")
    result = zoo.train(
        args.name,
        data,
        task=args.task,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        early_stopping=args.early_stopping,
        strategy=strategy,
        mixed_precision=args.mixed_precision,
        output=args.output,
        save=not args.no_save,
        resume=args.resume,
        seed=args.seed,
        **dict(args.settings),
    )
    print(result.history.tail(5).to_string(index=False))
    _print_tables(result.metrics, result.report, result.confusion)
    if data.task == "language_modeling" and hasattr(result.model, "generate"):
        _print_sample(result.model, data)
    if result.path is not None:
        print(f"saved to {result.path}/ (TensorBoard logs in {result.run_dir}/logs)")


def _print_sample(model: Any, data: Any, prompt_tokens: int = 8) -> None:
    """A language model's greedy continuation of the start of its held-out text."""
    split = next(d for d in (data.test, data.validation, data.train) if d is not None)
    prompt = next(iter(split))[0].numpy()[0, :prompt_tokens]
    ids = model.generate(prompt, max_new_tokens=4 * prompt_tokens, temperature=0.0)
    print(f"sample (greedy, after {data.encoder.decode(prompt)!r}):")
    print(data.encoder.decode(ids))


def _tune(args: argparse.Namespace) -> None:
    import pandas as pd

    import zoo

    load_options = _load_options(args, args.name)
    if args.name == "text_classifier":  # keras-hub presets tokenize raw strings
        load_options["tokenize"] = False
    result = zoo.tune(
        args.name,
        args.data if args.workers else zoo.data.load(args.data, **load_options),
        task=args.task,
        workers=args.workers,
        trials_per_process=args.trials_per_process,
        load_options=load_options if args.workers else None,
        space=dict(args.space) or None,
        algorithm=args.algorithm,
        max_trials=args.max_trials,
        epochs=args.epochs,
        objective=args.objective,
        direction=args.direction,
        early_stopping=args.early_stopping,
        strategy=args.strategy,
        directory=args.directory,
        project_name=args.project_name,
        overwrite=args.overwrite,
        output=args.output,
        save=not args.no_save,
        seed=args.seed,
    )
    with pd.option_context("display.width", 160, "display.max_columns", 30):
        print(result.trials.drop(columns="error").to_string(index=False))
    print(f"best {result.objective}: {result.best_hyperparameters}")
    _print_tables(result.metrics, None, None)
    print(f"search in {result.directory}/ (trials.csv)")
    if result.path is not None:
        print(f"best model saved to {result.path}/")


def _evaluate(args: argparse.Namespace) -> None:
    import zoo

    model = zoo.load(args.model)
    result = zoo.evaluate(model, _load_data(args, model), split=args.split, task=args.task)
    _print_tables(result.metrics, result.report, result.confusion)


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


def _left_aligned(table) -> str:
    table = table.astype(str)
    formatters = {
        column: f"{{:<{max(table[column].str.len().max(), len(column))}}}".format
        for column in table.columns
    }
    return table.to_string(index=False, justify="left", formatters=formatters)


def _predict(args: argparse.Namespace) -> None:
    import pandas as pd

    import zoo
    from zoo import _fs

    # Existing paths travel as paths, so a text model reads those files; others are texts.
    inputs = [Path(item) if os.path.exists(item) else item for item in args.inputs]
    table = zoo.predict(args.model, inputs, top=args.top, batch_size=args.batch_size)
    if args.output:
        path = _fs.write_text(args.output, table.to_csv(index=False))
        print(f"wrote {len(table)} prediction(s) to {path}")
        return

    def shown(value: Any) -> Any:  # long texts shortened on screen; paths kept whole
        if not isinstance(value, str) or os.path.exists(value):
            return value
        value = " ".join(value.split())
        return value if len(value) <= 60 else value[:57] + "..."

    with pd.option_context("display.width", 160, "display.precision", 4):
        print(table.assign(input=table["input"].map(shown)).to_string(index=False))


def _weights(args: argparse.Namespace) -> int:
    from zoo.transfer import weights

    if args.weights_action == "list":
        table = weights.list_weights(args.pattern)
        print(_left_aligned(table) if len(table) else f"No backbone matches {args.pattern!r}.")
        return 0
    table = weights.pull(
        args.names,
        mirror=args.mirror,
        folder=args.folder,
        force=args.force,
        progress=not args.quiet,
        raise_errors=False,
    )
    shown = table.assign(
        size=table["bytes"].map(lambda n: f"{n / 1e6:.1f} MB" if n else ""),
        seconds=table["seconds"].map("{:.1f}".format),
    )[["name", "status", "size", "seconds", "check", "source"]]
    print(_left_aligned(shown))
    counts = table["status"].value_counts()
    folder = os.path.dirname(table["file"].iloc[0])
    print(
        f"{folder}: {counts.get('downloaded', 0)} downloaded, {counts.get('present', 0)} "
        f"present, {counts.get('failed', 0)} failed"
    )
    failed = table[table["status"] == "failed"]
    for row in failed.itertuples():
        print(f"zoo weights pull: {row.name} failed: {row.error}", file=sys.stderr)
    return 1 if len(failed) else 0


def _export(args: argparse.Namespace) -> int:
    from zoo import exporting

    try:
        result = exporting.export(
            args.model, args.output, format=args.format, tolerance=args.tolerance
        )
    except (
        exporting.ExportError,
        exporting.ExportParityError,
        exporting.MissingDependencyError,
    ) as error:
        print(f"zoo export: error: {error}", file=sys.stderr)
        return 1
    from zoo.exporting import format_size

    print(f"exported to {result.path} ({format_size(result.size_bytes)}, {result.seconds:.1f} s)")
    return 0


def _doctor() -> int:
    from zoo import environment

    report = environment.doctor()  # imports TensorFlow itself, and survives a broken one
    print(report)
    return 0 if report.ok else 1


def _import_tensorflow_quietly() -> None:
    from zoo._quiet import prepare_backend

    prepare_backend()


# ------------------------------------------------------------ checks before slow work


def _catalogue(*, rows: bool = False) -> dict[str, Any]:
    """The catalogue's names (with `rows`, its table) from the cache, else from Keras."""
    from zoo import _catalogue_cache

    cached = _catalogue_cache.read()
    if cached is not None and (cached["rows"] is not None or not rows):
        return cached
    _import_tensorflow_quietly()
    import json

    from zoo import registry

    names, others = registry.names(), registry.aliases()
    catalogue = {
        "accepted": {
            **{name: name for name in names},
            **{name: row for name, row in others.items() if not registry.is_deprecated(name)},
        },
        "deprecated": {name: row for name, row in others.items() if registry.is_deprecated(name)},
        "parameters": {name: registry.get_entry(name).parameters for name in names},
        "rows": None,
    }
    if rows:  # pandas writes Int64's missing values as null
        catalogue["rows"] = json.loads(registry.list_architectures().to_json(orient="records"))
    _catalogue_cache.write(catalogue)
    return catalogue


def _check_architecture(name: str, settings: Sequence[tuple[str, Any]] = ()) -> None:
    """Refuse an unknown architecture or ``--set`` key before anything slow happens."""
    from zoo import _validation as v

    catalogue = _catalogue()
    row = catalogue["accepted"].get(name) or catalogue["deprecated"].get(name)
    if row is None:
        raise v.unknown_name(
            "architecture",
            name,
            catalogue["accepted"],
            hint="See `zoo list` (or zoo.list_architectures()) for every name.",
        )
    v.check_kwargs(f"architecture {row!r}", dict(settings), catalogue["parameters"][row])


def _saved_models_dir() -> Path:
    # As zoo.saving.saved_models_dir(), without loading Keras.
    return Path(os.environ.get("ZOO_SAVED_MODELS", "saved_models"))


def _is_saved_model(name_or_path: str) -> bool:
    path = Path(name_or_path)
    if path.exists():
        return True
    return "/" not in name_or_path and (_saved_models_dir() / name_or_path).exists()


def _check_saved_model(name_or_path: str) -> None:
    """Refuse a saved model that does not exist before loading TensorFlow."""
    if _is_saved_model(name_or_path):
        return
    root, known = _saved_models_dir(), []
    if root.is_dir():
        known = sorted(p.name for p in root.iterdir() if (p / "model.keras").is_file())
    listed = f" Saved models in {root}: {', '.join(known)}." if known else ""
    raise FileNotFoundError(
        f"No saved model at {Path(name_or_path) if '/' in name_or_path else root / name_or_path}"
        f": a saved model is a name under {root}/, or a folder or .keras file that exists."
        f"{listed} Received: model={name_or_path!r}"
    )


def _check_backbone(name: str) -> None:
    """A fine-tuning backbone: a saved model, or a catalogue name."""
    if not _is_saved_model(name):
        _check_architecture(name)


def _check_arguments(args: argparse.Namespace) -> None:
    """Names and files the command needs, checked before TensorFlow or data load."""
    command = args.command
    if command in ("train", "build", "tune"):
        _check_architecture(args.name, args.settings if command != "tune" else ())
    elif command == "finetune":
        _check_backbone(args.backbone)
    elif command in ("evaluate", "export", "predict"):
        _check_saved_model(args.model)


# ------------------------------------------------------------------------------ main

USER_ERRORS: tuple[type[BaseException], ...] = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
"""Besides zoo's own ``UserError``s, errors that the CLI shows as one line (exit 2)."""


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "launch":
        from zoo.distribute import launch

        command = list(args.worker_command)
        if command[:1] == ["--"]:
            command = command[1:]
        if not command:
            parser.error(
                "launch needs a command after --, for example: zoo launch -- zoo train ..."
            )
        return launch(command, workers=args.workers, timeout=args.timeout)
    if args.command == "doctor":  # works, and says why, when TensorFlow is broken
        return _doctor()
    _check_arguments(args)
    if args.command == "list":
        _list(args)
        return 0
    if args.command == "datasets":
        _datasets()
        return 0
    _import_tensorflow_quietly()
    if args.command == "demo" and args.train:
        run_demo(output=args.output or "digits_convnet", epochs=args.epochs or 40, seed=args.seed)
    elif args.command == "demo":
        run_transfer_demo(
            args.output,
            per_digit=args.per_digit,
            epochs=args.epochs,
            fine_tune_epochs=args.fine_tune_epochs,
            seed=args.seed,
        )
    else:
        commands = {
            "finetune": _finetune,
            "build": _build,
            "train": _train,
            "evaluate": _evaluate,
            "tune": _tune,
            "predict": _predict,
            "weights": _weights,
            "export": _export,
        }
        return commands[args.command](args) or 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``zoo`` command; returns the exit status.

    A user error (a bad argument, an unknown name, a missing or damaged file) prints one
    line, ``zoo COMMAND: error: ...``, and returns 2; ``--debug`` (or ``ZOO_DEBUG=1``)
    shows its traceback instead. Anything else is a bug and keeps its traceback.
    """
    from zoo import _validation as v

    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    debug = args.debug or os.environ.get("ZOO_DEBUG") == "1"
    try:
        return _run(parser, args)
    except (v.UserError, *USER_ERRORS) as error:
        if debug:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"zoo {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"zoo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
