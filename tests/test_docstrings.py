"""Every docstring example of the public API runs (so none can go stale).

The public modules' own docstrings count, and so do those of their functions and classes.

An example that shows output must print it; one that shows none only has to run. The
few marked ``+SKIP`` need what a test cannot have (a TF Hub module on disk, a fresh
process before TensorFlow starts, several worker processes).
"""

import doctest
import importlib
import inspect

import keras
import numpy as np
import pytest

import zoo

PUBLIC = [
    "zoo",
    "zoo.registry",
    "zoo.saving",
    "zoo.training",
    "zoo.tuning",
    "zoo.tuning.search",
    "zoo.exporting",
    "zoo.environment",
    "zoo.transfer",
    "zoo.transfer.backbones",
    "zoo.transfer.text",
    "zoo.transfer.hub",
    "zoo.transfer.weights",
    "zoo.transfer.layerwise",
    "zoo.transfer.fine_tuning",
    "zoo.transfer.adapting",
    "zoo.predicting",
    "zoo.data.inputs",
    "zoo.data.series",
    "zoo.data.manifest",
    "zoo.data.streaming",
    "zoo.engine.inputs",
    "zoo.layers.preprocessing",
    "zoo.tuning.space",
    "zoo.data",
    "zoo.plots",
    "zoo.distribute",
    "zoo.optimizers",
    "zoo.engine",
    "zoo.tasks",
    "zoo.layers",
]


class _RunsOrMatches(doctest.OutputChecker):
    """Output shown in an example must match; an example that shows none may print."""

    def check_output(self, want, got, optionflags):
        return not want.strip() or super().check_output(want, got, optionflags)


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for name in PUBLIC:
        module = importlib.import_module(name)
        for test in doctest.DocTestFinder(recurse=False).find(module, name, globs=vars(module)):
            if test.examples:  # the module's own docstring
                found.setdefault(test.name, test)
        for attribute in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, attribute, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("zoo"):
                continue
            globs = vars(importlib.import_module(obj.__module__))
            for test in finder.find(obj, f"{obj.__module__}.{obj.__qualname__}", globs=globs):
                if test.examples:
                    found.setdefault(test.name, test)
    return found


EXAMPLES = _examples()


def test_the_public_api_has_examples():
    assert len(EXAMPLES) > 40


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_example_runs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    test = EXAMPLES[name]
    test.globs = {**test.globs, "zoo": zoo, "keras": keras, "np": np}
    runner = doctest.DocTestRunner(
        checker=_RunsOrMatches(),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
