"""``zoo.tune``: one call to search an architecture's hyperparameters with Keras Tuner.

Keras Tuner does the searching (random, grid, Bayesian optimisation, Hyperband); zoo
supplies the search space (each family declares a default one), builds every trial's
model inside the strategy's scope, records failed trials with their error, keeps the
search in a folder named after the architecture and the data (``mlp-1a2b3c4d``) that a
later call with the same arguments resumes, and returns the trials as a pandas table
(also written to ``trials.csv`` after every trial). The folder records what the search
belongs to (:mod:`zoo.tuning.project`): a call with another space, architecture,
objective or data is refused before any trial, rather than mixed into it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from zoo import _fs, distribute, distribute_jax, engine, optimizers, plots, registry, saving, tasks
from zoo import _validation as v
from zoo._compat.keras_tuner import best_model, wait_when_idle
from zoo._compat.tensorflow import is_default_strategy
from zoo.tuning import mirror as mirrors
from zoo.tuning import project as projects
from zoo.tuning import space as spaces
from zoo.tuning import workers as supervised
from zoo.tuning.trials import SECONDS_FILE, RecycleWorker, trials_frame, write_trials

__all__ = ["ALGORITHMS", "TuneResult", "get_entry", "trials_frame", "tune"]

ALGORITHMS = ("random", "grid", "bayesian", "hyperband")
TUNING_DIR = ".tuning"


_MINIMISED = ("loss", "error", "mae", "mse", "rmse", "crossentropy", "mmd", "perplexity")


def get_entry(name: str) -> Any:
    """The catalogue entry of `name` (an architecture, a pretrained row or a transfer builder).

    Raises:
        ValueError: an unknown name, with close matches.
    """
    return registry.get_entry(name)


def _check_offline_weights(entry: Any, space: dict[str, Any]) -> None:
    """With ZOO_OFFLINE=1, every backbone choice must have its ImageNet weights here."""
    from zoo.transfer import backbones

    if entry.name != "image_classifier" or os.environ.get(backbones.OFFLINE_ENV) != "1":
        return
    weights = space.get("weights", "imagenet")
    if not (weights == "imagenet" or (isinstance(weights, list) and "imagenet" in weights)):
        return
    choices = space.get("backbone", [])
    choices = choices if isinstance(choices, list) else [choices]
    missing = [
        backbones.BACKBONES[name].weights_file
        for name in choices
        if name in backbones.BACKBONES and backbones.local_weights(name) is None
    ]
    if missing:
        raise v.invalid(
            "space",
            f"backbones whose ImageNet weights are available offline: place "
            f"{missing} in ${backbones.WEIGHTS_DIR_ENV} or {backbones.keras_cache_dir()} "
            "(`zoo weights pull` fetches them on a connected machine), or set "
            "'weights': [None] (a choice of one; None alone drops a name)",
            choices,
        )


@dataclasses.dataclass
class TuneResult:
    """What :func:`tune` returns.

    Attributes:
        trials: one row per trial: ``trial``, ``status``, ``score``, ``best_epoch``,
            ``seconds``, each hyperparameter, and ``error`` for failed trials.
        best_hyperparameters: the best trial's values.
        model: the best trial's model, restored from its best epoch.
        metrics: the best model's metrics on the test split (or validation).
        objective: the objective's name; ``direction`` is ``"min"`` or ``"max"``.
        directory: the search's folder (rerun the same call to resume it).
        path: where the best model was saved with its card, or None.
    """

    trials: pd.DataFrame
    best_hyperparameters: dict[str, Any]
    model: keras.Model
    metrics: dict[str, float]
    objective: str
    direction: str
    directory: Path
    path: Path | None = None

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """Score against trial with the best so far (:func:`zoo.plots.tuning`)."""
        return plots.tuning(self, path=path)


def _direction(objective: str, direction: str | None) -> str:
    if direction is not None:
        return v.check_choice("direction", direction, ("min", "max"))
    return "min" if any(word in objective for word in _MINIMISED) else "max"


def _probe(entry: Any, data: Any, task: str) -> keras.Model | None:
    """A compiled model of the architecture at its defaults, to learn its own metrics."""
    if entry is None or entry.family == "transfer" or task not in ("autoencoder", "generative"):
        return None
    model = registry.build(entry.name, **data.builder_arguments(entry.parameters))
    return engine.compile_model(model, task)


def _search_space(name_or_builder: Any, override: Any, algorithm: str):
    """(default space merged with the override, builder entry or None)."""
    if isinstance(name_or_builder, str):
        entry = get_entry(name_or_builder)
        merged = spaces.merge(entry.search_space, override)
        spaces.check(merged, entry.parameters, hyperband=algorithm == "hyperband")
        _check_offline_weights(entry, merged)
        return merged, entry
    if not callable(name_or_builder):
        raise v.invalid(
            "name_or_builder",
            "a registered architecture name or a callable that takes `hp`",
            type(name_or_builder).__name__,
            TypeError,
        )
    merged = spaces.merge({}, override)
    spaces.check(merged, [], hyperband=algorithm == "hyperband")  # fit names only
    return merged, None


_OPTIMIZER_KEYS = {"learning_rate", "optimizer", "schedule"}


def _optimizer(values: dict[str, Any], steps: int):
    """The trial's optimizer maker from its sampled values (SGD with momentum 0.9)."""
    kind = values.get("optimizer", "adam")
    return optimizers.factory(
        kind,
        values.get("learning_rate", 1e-3),
        schedule=values.get("schedule", "constant"),
        decay_steps=steps,
        **({"momentum": 0.9} if kind == "sgd" else {}),
    )


def _hypermodel(
    name_or_builder: Any,
    entry: Any,
    space: dict[str, Any],
    data,
    epochs: int,
    task: str,
):
    import keras_tuner

    fit_keys = set(spaces.FIT_KEYS)

    class ZooHyperModel(keras_tuner.HyperModel):
        """Builds a trial's model from the space; fits with the trial's fit values."""

        zoo_scope = contextlib.nullcontext  # JAX: the strategy's scope (Keras Tuner's
        # distribution_strategy takes tf.distribute strategies only)

        def build(self, hp):
            with self.zoo_scope():
                return self._build_trial(hp)

        def _build_trial(self, hp):
            values = spaces.sample(hp, space)
            if entry is not None:
                arguments = {
                    **data.builder_arguments(entry.parameters),
                    **{k: x for k, x in values.items() if k not in fit_keys},
                }
                model = registry.build(entry.name, **arguments)
            else:
                model = name_or_builder(hp)
                if not isinstance(model, keras.Model):
                    raise v.invalid(
                        "name_or_builder",
                        "a callable that returns a keras.Model",
                        model,
                        TypeError,
                    )
            # keras-hub tasks come compiled with their own rate: the space's is used.
            if entry is not None or not model.compiled:
                batch = values.get("batch_size", data.batch_size)
                steps = math.ceil((data.sizes.get("train") or 1) / batch)
                steps *= values.get("epochs", epochs)
                optimizer = "auto"  # models that compile themselves keep their own choice
                if not tasks.uses_own_compile(model, task) or _OPTIMIZER_KEYS & set(values):
                    optimizer = _optimizer(values, steps)
                engine.compile_model(model, task, optimizer=optimizer)
            return model

        def fit(self, hp, model, *args, **kwargs):
            train, validation = args[0], kwargs.pop("validation_data", None)
            batch_size = hp.values.get("batch_size") or data.batch_size
            if batch_size != data.batch_size:
                train = train.unbatch().batch(batch_size)
                if validation is not None:
                    validation = validation.unbatch().batch(batch_size)
            sizes = data.sizes
            if "epochs" in hp.values and "tuner/epochs" not in hp.values:
                kwargs["epochs"] = hp.values["epochs"]
            hooks = engine.standard_callbacks(
                None, monitor="loss", has_loss=True, early_stopping=None
            )
            engine.fit(
                model,
                train,
                validation,
                epochs=kwargs.pop("epochs", epochs),
                callbacks=[*kwargs.pop("callbacks", []), *hooks],
                verbose=kwargs.pop("verbose", "auto"),
                initial_epoch=kwargs.pop("initial_epoch", 0),
                first_batches=tuple(  # unknown while files may yet be found bad
                    min(batch_size, sizes[split])
                    if sizes.get(split) and not getattr(data, "unchecked", 0)
                    else None
                    for split in ("train", "validation")
                ),
            )
            history = model.history  # Keras Tuner reads the best epoch from it
            for name, losses in history.history.items():  # a GAN has d_loss and g_loss
                if name.endswith("loss") and any(not np.isfinite(x) for x in losses):
                    raise keras_tuner.errors.FailedTrialError(
                        f"the {name} became {losses[-1]} at epoch {len(losses)}: "
                        f"hyperparameters {hp.values}"
                    )
            return history

    return ZooHyperModel()


def _tuner_class(algorithm: str):
    import keras_tuner

    from zoo.tuning import grid

    base = {
        "random": keras_tuner.RandomSearch,
        "grid": grid.GridSearch,
        "bayesian": keras_tuner.BayesianOptimization,
        "hyperband": keras_tuner.Hyperband,
    }[algorithm]

    class ZooTuner(base):
        """Keras Tuner's tuner that times trials and writes trials.csv after each."""

        zoo_verbose = 0
        zoo_direction = "max"
        zoo_recycle_after = 0
        zoo_seed = 0
        zoo_mirror = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if not hasattr(self.oracle, "trials"):  # a worker's client of the chief's oracle
                wait_when_idle(self.oracle)

        def on_trial_begin(self, trial):
            self._zoo_started = time.perf_counter()
            self._zoo_release = distribute.release_traced_gradients()
            # Seeded by trial, so a trial's result does not depend on which worker
            # runs it or on what the process ran before.
            keras.utils.set_random_seed(self.zoo_seed + int(trial.trial_id))
            super().on_trial_begin(trial)

        def pre_create_trial(self):
            done = getattr(self, "_zoo_done", 0)
            if self.zoo_recycle_after and done >= self.zoo_recycle_after:
                raise RecycleWorker(done)
            super().pre_create_trial()

        def on_trial_end(self, trial):
            seconds = time.perf_counter() - getattr(self, "_zoo_started", time.perf_counter())
            folder = Path(self.get_trial_dir(trial.trial_id))
            folder.mkdir(parents=True, exist_ok=True)
            _fs.write_text(folder / SECONDS_FILE, f"{seconds:.3f}")
            super().on_trial_end(trial)
            getattr(self, "_zoo_release", lambda: 0)()  # the trial's graphs can go
            self._zoo_done = getattr(self, "_zoo_done", 0) + 1
            local = hasattr(self.oracle, "trials")  # a worker's oracle is a client
            if local:
                write_trials(self)
            if self.zoo_mirror is not None:  # a cluster worker pushes its checkpoints
                self.zoo_mirror.push()
            if self.zoo_verbose:
                ended = self.oracle.get_trial(trial.trial_id)  # a worker's copy has no score
                score = "failed" if str(trial.status) != "COMPLETED" else f"{ended.score:.4f}"
                best = ""
                if local:
                    table = trials_frame(self)
                    done = table[table["status"] == "COMPLETED"]["score"]
                    if len(done):
                        value = done.min() if self.zoo_direction == "min" else done.max()
                        count = f"{len(table)} trial{'s' if len(table) != 1 else ''}"
                        best = f", best {value:.4f} ({count} so far)"
                # The id the trials table shows in its `trial` column (from 0).
                print(
                    f"zoo tune: trial {int(trial.trial_id)}: {score} in {seconds:.1f} s{best}",
                    flush=True,
                )

    return ZooTuner


def tune(
    name_or_builder: Any,
    data: Any,
    *,
    task: str | None = None,
    space: dict[str, Any] | None = None,
    algorithm: str = "random",
    max_trials: int = 10,
    epochs: int = 5,
    objective: str | None = None,
    direction: str | None = None,
    early_stopping: int | None = None,
    callbacks: list[Any] | None = None,
    max_failures: int = 3,
    workers: int = 0,
    trials_per_process: int | None = None,
    load_options: dict[str, Any] | None = None,
    strategy: Any = "auto",
    directory: str | os.PathLike | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    output: str | os.PathLike | None = None,
    save: bool = True,
    seed: int = 0,
    verbose: Any = 1,
) -> TuneResult | None:
    """Search hyperparameters of an architecture (or an ``hp`` builder) with Keras Tuner.

    Args:
        name_or_builder: a registered architecture (its default space is used) or a
            callable that takes Keras Tuner's ``hp`` and returns a model.
        data: a ``zoo.data.Data`` or any source ``zoo.data.load`` accepts.
        task: the training task (see :mod:`zoo.tasks`; default: the architecture's,
            else the data's): autoencoders search on their reconstruction loss, a
            GPT on its next-token loss, a GAN on held-out ``val_mmd``, a diffusion
            model on its noise-prediction loss.
        space: overrides of the default space (see :mod:`zoo.tuning.space`): names map
            to a list (a choice), a ``{"min", "max", "step", "sampling"}`` range, a
            fixed value, or None to drop a default name.
        algorithm: ``"random"``, ``"grid"``, ``"bayesian"`` or ``"hyperband"``.
        max_trials: the most trials (all algorithms but Hyperband, which runs its
            bracket schedule up to ``epochs``).
        epochs: epochs per trial (Hyperband's maximum).
        objective: a compiled metric, ``val_`` prefixed for the validation split
            (default ``val_accuracy`` for classification, ``val_mmd`` for a GAN,
            ``val_loss`` otherwise).
        direction: ``"min"`` or ``"max"`` (default: min for losses and errors).
        early_stopping: patience in epochs within each trial, or None.
        callbacks: Keras callbacks for every trial's fit (Keras Tuner copies them).
        max_failures: consecutive failed trials after which the search stops.
        workers: 0 searches in this process; N runs Keras Tuner's chief and N worker
            processes on 127.0.0.1 sharing the directory, supervised (a worker that
            dies is restarted under its tuner id and its trial re-runs); `data` must
            then be a name or path that each process loads.
        trials_per_process: with workers, a worker exits and is restarted after this
            many trials (default: never), a guard against memory that grows in a
            long-lived process. zoo already drops the traced graphs TensorFlow keeps
            per trained model (``zoo.distribute.release_traced_gradients``), so
            memory stays flat from trial to trial without it.
        load_options: ``zoo.data.load`` arguments for a `data` name or path.
        strategy: a ``zoo.distribute.strategy`` kind or Strategy; each trial's model
            is built in its scope. Not ``"multiworker"``: trials run side by side
            (`workers`), each on its own process's devices.
        directory: where searches live (default ``saved_models/.tuning``); a
            ``file://`` URL means the local folder it names; a URL such as
            ``gs://bucket/tuning`` keeps the search there, run in a local copy that is
            synced after every trial (see :mod:`zoo.tuning.mirror`); a scheme that
            TensorFlow's file system does not know is refused.
        project_name: the search's folder name, used as given (default: the
            architecture's name and the first 8 hex digits of the data's fingerprint,
            such as ``mlp-1a2b3c4d``, so two datasets never share a folder).
        overwrite: start afresh (the folder is emptied) instead of resuming the search
            in it. Without it, the folder's search must have the same architecture,
            algorithm, task, objective, space and data (fingerprint, input shape,
            classes), as recorded in its ``zoo_search.json``; a folder with a search
            but no record (an older zoo's) cannot be checked and is refused too.
        output: name or folder for the best model (default ``<project>_tuned``).
        save: save the best model with a card that records the search.
        seed: the search's random seed.
        verbose: 0 for silence, 1 for one line per trial (``zoo tune: trial 0: ...``,
            numbered as the `trial` column of the trials table).

    Returns:
        A :class:`TuneResult`; None in a chief or worker process of a distributed
        search (``KERASTUNER_TUNER_ID`` set), whose results the chief's folder holds.

    Raises:
        ValueError / TypeError: for unknown names, bad spaces and settings, and for
            an existing search in the folder that differs from this call (saying what
            differs, there and here): before any trial runs.

    Example:
        >>> result = zoo.tune("mlp_tiny", "digits", max_trials=2, epochs=1, verbose=0,
        ...                   save=False, space={"units": [[16], [32]]}, overwrite=True)
        >>> list(result.trials["status"])
        ['COMPLETED', 'COMPLETED']
        >>> result.directory.name == "mlp_tiny-" + zoo.data.load("digits").fingerprint[:8]
        True
    """
    given = dict(locals())
    checks = _check_arguments(given)
    given["directory"] = checks["directory"]  # a file:// URL becomes its local path
    merged, entry = _search_space(name_or_builder, space, algorithm)
    if project_name is not None:
        projects.check_name(project_name)
    strat = distribute.strategy(strategy)
    if workers and not (isinstance(name_or_builder, str) and isinstance(data, (str, os.PathLike))):
        raise v.invalid(
            "workers",
            "0 unless `name_or_builder` is a registered name and `data` a name or path "
            "(each worker process builds and loads them itself)",
            workers,
        )
    data, task, objective, direction, probe, preprocessor = _prepare(
        name_or_builder, entry, data, task, objective, direction, load_options, seed
    )
    architecture = _architecture(name_or_builder, entry)
    if project_name is None:  # workers get the chief's name, so they share its folder
        base = getattr(entry, "name", None) or getattr(name_or_builder, "__name__", "custom")
        project_name = projects.default_name(base, data)
    settled = {"task": task, "objective": objective, "direction": direction}
    settled.update(project_name=project_name, verbose=checks["verbose"])
    root, mirror = _project_folder({**given, **settled})
    found = projects.record(
        architecture=architecture,
        algorithm=algorithm,
        task=task,
        objective=objective,
        direction=direction,
        space=merged,
        data=data,
    )
    projects.claim(root / project_name, found, overwrite=overwrite)  # before any trial
    hypermodel = _hypermodel(name_or_builder, entry, merged, data, epochs, task)
    tuner = _open_tuner(hypermodel, strat, root, mirror, {**given, **settled})
    role = os.environ.get("KERASTUNER_TUNER_ID")
    if role == "chief":  # a cluster's chief: serve the oracle until the workers are done
        supervised.serve(tuner)
        return None
    if workers:  # this process serves the oracle to N supervised worker processes
        spec = {key: given[key] for key in _WORKER_ARGUMENTS}
        spec.update(settled, data=os.fspath(given["data"]), directory=os.fspath(root))
        spec.update(load_options=load_options or {}, strategy=_strategy_name(strategy))
        supervised.run(tuner, spec, workers)
    else:
        tuner.zoo_recycle_after = (trials_per_process or 0) if role is not None else 0
        stopping = [
            keras.callbacks.EarlyStopping(monitor=objective, mode=direction, patience=patience)
            for patience in (early_stopping,)
            if patience
        ]
        tuner.search(
            tasks.feed(data.train, task, model=probe),
            validation_data=tasks.feed(data.validation, task, model=probe),
            epochs=epochs,
            callbacks=[*checks["callbacks"], *stopping],
            verbose=max(checks["verbose"] - 1, 0),
        )
    if role is not None:  # a worker: the chief holds the results
        return None
    card = {"algorithm": algorithm, "task": task, "epochs": epochs, "seed": seed}
    target = (output if output is not None else f"{project_name}_tuned") if save else None
    fitted = engine.Fitting(None, data, preprocessor)
    return _result(tuner, fitted, merged, objective, direction, target, strat, card)


# What a worker process of a search receives (with the settled task and objective).
_WORKER_ARGUMENTS = (
    "name_or_builder",
    "space",
    "algorithm",
    "max_trials",
    "epochs",
    "early_stopping",
    "max_failures",
    "seed",
    "trials_per_process",
)


def _strategy_name(strategy: Any) -> str:
    """A strategy a worker process can make again (a Strategy object stays here)."""
    return strategy if isinstance(strategy, str) else "auto"


def _check_arguments(given: dict[str, Any]) -> dict[str, Any]:
    """Tune's settings checked before any slow work; the normalised ones returned."""
    tasks.check(given["task"])
    algorithm = v.check_choice("algorithm", given["algorithm"], ALGORITHMS)
    v.check_int("max_trials", given["max_trials"], minimum=1)
    epochs = v.check_int("epochs", given["epochs"], minimum=1)
    v.check_int("early_stopping", given["early_stopping"], minimum=1, allow_none=True)
    v.check_int("max_failures", given["max_failures"], minimum=1)
    v.check_int("workers", given["workers"], minimum=0)
    v.check_int("trials_per_process", given["trials_per_process"], minimum=1, allow_none=True)
    if given["load_options"] is not None and not isinstance(given["load_options"], dict):
        raise v.invalid(
            "load_options", "a dict of zoo.data.load arguments", given["load_options"], TypeError
        )
    v.check_bool("overwrite", given["overwrite"])
    v.check_bool("save", given["save"])
    v.check_int("seed", given["seed"], minimum=0)
    directory = _check_directory(given["directory"])
    _check_single_process(given["strategy"])
    if algorithm == "hyperband" and epochs < 2:
        raise v.invalid("epochs", "at least 2 with algorithm='hyperband'", epochs)
    return {
        "callbacks": v.check_callbacks(given["callbacks"]),
        "verbose": v.check_int("verbose", given["verbose"], minimum=0, maximum=2),
        "directory": directory,
    }


def _check_single_process(strategy: Any) -> None:
    """Refuse a multi-worker strategy: a search spreads its trials, not one trial."""
    if strategy == "multiworker" or (
        not isinstance(strategy, str) and distribute.is_multiworker(strategy)
    ):
        raise v.invalid(
            "strategy",
            "a strategy of this process's devices ('auto', 'cpu', 'gpu', 'mirrored', "
            "'tpu'): a search runs trials side by side (workers=N, or a Keras Tuner "
            "cluster under KERASTUNER_TUNER_ID), each on its own devices; train the chosen "
            "hyperparameters across machines with zoo.train(..., strategy='multiworker')",
            strategy,
        )


def _remote_schemes() -> list[str] | None:
    """The URL schemes TensorFlow's file system knows here (None: cannot tell)."""
    import tensorflow as tf

    registered = getattr(tf.io.gfile, "get_registered_schemes", None)
    if registered is None:  # pragma: no cover - older TensorFlow: let gfile decide
        return None
    return sorted(scheme for scheme in registered() if scheme not in ("", "file"))


def _check_directory(directory: Any) -> Any:
    """The search directory checked: a local folder, or a URL a file system can take.

    A ``file://`` URL means the local folder it names (``file:///tmp/x`` is
    ``/tmp/x``); another scheme must be one TensorFlow's file system knows
    (``gs://``, ``ram://``; ``s3://`` and others once ``tensorflow_io`` is imported),
    whose search is mirrored (:mod:`zoo.tuning.mirror`).
    """
    if directory is None:
        return None
    if not isinstance(directory, (str, os.PathLike)):
        raise v.invalid(
            "directory", "a folder path or a URL such as gs://bucket/tuning", directory, TypeError
        )
    text = os.fspath(directory)
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text) if isinstance(text, str) else None
    if match is None:
        return directory
    scheme = match.group(1)
    if scheme.lower() == "file":
        url = urllib.parse.urlsplit(text)
        path = urllib.request.url2pathname(url.path)
        if url.netloc not in ("", "localhost") or not path or url.query or url.fragment:
            raise v.invalid(
                "directory",
                "a file:// URL of a folder on this machine (file:///path/to/folder or "
                "file://localhost/path/to/folder), or the folder's path itself",
                directory,
            )
        return Path(path)
    schemes = _remote_schemes()
    if schemes is not None and scheme not in schemes:
        known = ", ".join(f"{known}://" for known in schemes)
        raise v.invalid(
            "directory",
            f"a local folder, a file:// URL or a URL whose scheme TensorFlow's file system "
            f"knows here ({known}; s3:// and others once tensorflow_io is imported), not "
            f"{scheme}://",
            directory,
        )
    return directory


def _prepare(name_or_builder, entry, data, task, objective, direction, load_options, seed):
    """Load the data; settle the task, objective and direction; probe the model.

    The preprocessing is what the best model is saved with, so that it takes raw input.
    """
    keras.utils.set_random_seed(seed)
    corpus_task = tasks.data_task(task, name_or_builder)
    if isinstance(data, (str, os.PathLike)) and load_options:
        from zoo.data import load

        data = load(data, **{"task": corpus_task, **load_options})
    data = engine.as_data(data, corpus_task)
    task = tasks.resolve(task, name_or_builder, data)
    has_validation = data.validation is not None
    probe = _probe(entry, data, task)
    # models that normalise 0-255 pixels themselves get them (a builder is not probed)
    fitting = (
        engine.prepare(probe, data)
        if probe is not None
        else engine.Fitting(None, data, data.preprocessor)
    )
    keras.utils.set_random_seed(seed)  # the probe drew from the seed: trials start afresh
    if objective is None:
        objective = ("val_" if has_validation else "") + tasks.default_objective(task, probe)
    known = tasks.objectives(task, probe, has_validation)
    if objective not in known and (entry is not None or task in tasks.SCORED_BY_SKLEARN):
        raise v.unknown_name(
            "objective",
            objective,
            known,
            hint="The objective is a metric the model reports for this task, with val_ for "
            "the validation split (a GAN's mmd only on validation data).",
        )
    direction = _direction(objective, direction)
    return fitting.data, task, objective, direction, probe, fitting.preprocessor


def _architecture(name_or_builder: Any, entry: Any) -> str:
    """A search's architecture, as recorded: the catalogue name or the builder's name."""
    if entry is not None:
        return entry.name
    name = getattr(name_or_builder, "__qualname__", None) or type(name_or_builder).__name__
    return f"builder {name}"


def _project_folder(settings: dict[str, Any]) -> tuple[Path, Any]:
    """The folder that holds the search folders (root) and the remote mirror, or None.

    A remote directory's search is pulled into its local copy (cleared with
    ``overwrite``), so its record can be checked before the tuner is built.
    """
    directory, project_name = settings["directory"], settings["project_name"]
    if directory is None or not mirrors.is_remote(directory):
        root = Path(directory) if directory is not None else saving.saved_models_dir() / TUNING_DIR
        return root, None
    remote = os.fspath(directory).rstrip("/")
    root = mirrors.local_folder(remote, saving.saved_models_dir() / TUNING_DIR / "mirrors")
    mirror = mirrors.Mirror(f"{remote}/{project_name}", root / project_name)
    if settings["overwrite"]:
        mirror.clear()
    else:
        mirror.pull()
    return root, mirror


def _open_tuner(hypermodel, strat, root: Path, mirror: Any, settings: dict[str, Any]):
    """Keras Tuner's tuner over the search folder, resuming whatever trials it holds.

    :func:`zoo.tuning.project.claim` checked the folder first (and emptied it with
    ``overwrite``).
    """
    import keras_tuner

    algorithm, epochs = settings["algorithm"], settings["epochs"]
    options: dict[str, Any] = {
        "hypermodel": hypermodel,
        "objective": keras_tuner.Objective(settings["objective"], direction=settings["direction"]),
        "directory": str(root),
        "project_name": settings["project_name"],
        "overwrite": False,  # claim emptied it: Keras Tuner's own would delete the record
        "seed": settings["seed"],
        "max_consecutive_failed_trials": settings["max_failures"],
    }
    if distribute_jax.is_jax_strategy(strat):
        hypermodel.zoo_scope = strat.scope
    elif not is_default_strategy(strat):
        options["distribution_strategy"] = strat
    if algorithm == "hyperband":
        options.update(max_epochs=epochs, factor=3)
    else:
        options["max_trials"] = settings["max_trials"]
    tuner = _tuner_class(algorithm)(**options)
    tuner.zoo_verbose, tuner.zoo_direction = settings["verbose"], settings["direction"]
    tuner.zoo_seed, tuner.zoo_mirror = settings["seed"], mirror
    return tuner


def _result(tuner, fitted, merged, objective, direction, target, strat, card) -> TuneResult:
    """The search's table and best model, scored, and saved with a card at `target`.

    The best model is returned and saved with the data's preprocessing in front
    (``fitted.preprocessor``), so it takes raw input like every model zoo trains.
    """
    data = fitted.data
    trials = write_trials(tuner)
    if tuner.zoo_mirror is not None:
        tuner.zoo_mirror.push()
    completed = trials[trials["status"] == "COMPLETED"]
    if completed.empty:
        errors = "; ".join(str(x) for x in trials["error"].dropna().unique()[:3])
        raise RuntimeError(f"Every trial of the search failed: {errors}")
    best_hp = tuner.get_best_hyperparameters(1)[0]
    network = best_model(tuner)
    metrics = engine.evaluate(network, data, task=card["task"]).metrics
    model = dataclasses.replace(fitted, network=network).deployable(card["task"])
    result = TuneResult(
        trials=trials,
        best_hyperparameters=spaces.decode(merged, best_hp.values),
        model=model,
        metrics=metrics,
        objective=objective,
        direction=direction,
        directory=Path(tuner.project_dir),
    )
    if target is not None:
        result.path = engine.finish(
            model,
            target,
            tuning=result,
            tables={"trials.csv": trials},
            data=data.describe(),
            metrics=metrics,
            search={
                **card,
                "objective": objective,
                "direction": direction,
                "trials": len(trials),
                "completed": len(completed),
                "space": spaces.describe(merged).astype(str).to_dict("records"),
                "best_hyperparameters": dict(best_hp.values),
                "directory": str(Path(tuner.project_dir)),
                **distribute.describe(strat),
            },
        )
    return result
