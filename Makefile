# The two commands: `make demo` runs zoo's main job, `make test` runs the test suite.
# Both create a local virtual environment in .venv and install zoo into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.zoo-installed

.PHONY: demo test test-jax lint format install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "zoo needs Python >= 3.10, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo demo

# The second pass runs the backend-neutral core again on Keras's JAX backend over two
# virtual CPU devices, so strategy="auto" is data parallel there (tests marked
# tensorflow_only skip themselves; tests/test_jax_backend.py, in the first pass, covers
# TensorFlow-free imports, multiworker, fine_tune, tuning and cross-backend round trips).
JAX_TESTS := tests/test_engine.py tests/test_training.py tests/test_saving.py \
	tests/test_predict.py tests/test_tasks.py tests/tuning/test_tune.py \
	tests/transfer/test_fine_tuning.py tests/transfer/test_text.py::test_fine_tunes_on_raw_strings \
	tests/architectures/test_mlp.py tests/architectures/test_cnn.py \
	tests/architectures/test_autoencoder.py tests/architectures/test_gan.py \
	tests/architectures/test_timeseries.py tests/architectures/test_rbm.py \
	tests/architectures/test_dbn.py tests/data/test_series.py \
	tests/data/test_streamed_checks.py::test_training_stops_with_the_bad_files_named \
	"tests/test_notebooks.py::test_notebook_runs_in_fast_mode[01_quickstart]"

# Both passes spread test files over WORKERS processes (pytest-xdist; 2 suits CI's two
# cores, where it halves the wall time) and list the slowest tests at the end.
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --durations=20

test: $(STAMP) lint
	$(PYTEST)
	KERAS_BACKEND=jax JAX_PLATFORMS=cpu XLA_FLAGS=--xla_force_host_platform_device_count=2 \
		$(PYTEST) $(JAX_TESTS)

test-jax: $(STAMP)
	KERAS_BACKEND=jax JAX_PLATFORMS=cpu XLA_FLAGS=--xla_force_host_platform_device_count=2 \
		$(PYTEST) $(JAX_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check zoo tests benchmarks scripts
	$(BIN)/ruff format --check zoo tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format zoo tests benchmarks scripts
	$(BIN)/ruff check --fix zoo tests benchmarks scripts

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
