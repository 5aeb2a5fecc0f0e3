"""A chief or worker process of a distributed search: ``python -m zoo.tuning.worker SPEC``.

:mod:`zoo.tuning.workers` starts these processes; each runs ``zoo.tune`` with the
search's arguments (read from the spec file) under Keras Tuner's environment variables.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from zoo.tuning.search import tune
from zoo.tuning.trials import RecycleWorker
from zoo.tuning.workers import RECYCLE_CODE


def main(argv: list[str] | None = None) -> int:
    """Run the search's ``tune`` call; exit with RECYCLE_CODE after a share of trials."""
    argv = sys.argv[1:] if argv is None else argv
    spec = ast.literal_eval(Path(argv[0]).read_text())
    name, data = spec.pop("name_or_builder"), spec.pop("data")
    try:
        tune(name, data, save=False, **spec)
    except RecycleWorker:
        return RECYCLE_CODE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
