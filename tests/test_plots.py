"""zoo.plots renders headless (Agg) and saves PNGs; bad input gets a clear error."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import zoo
from zoo import plots

PNG = b"\x89PNG\r\n\x1a\n"


def _history(stages=False):
    table = pd.DataFrame(
        {
            "epoch": [1, 2, 3, 4],
            "loss": [1.0, 0.7, 0.5, 0.4],
            "accuracy": [0.5, 0.6, 0.7, 0.8],
            "val_loss": [1.1, 0.8, 0.6, 0.5],
            "val_accuracy": [0.4, 0.6, 0.65, 0.7],
            "val_auc": [0.5, 0.6, 0.7, 0.75],
            "seconds": [1.0, 1.0, 1.0, 1.0],
            "learning_rate": [1e-3] * 4,
        }
    )
    if stages:
        table.insert(1, "stage", ["head", "head", "fine_tune", "fine_tune"])
    return table


def test_training_curves_one_panel_per_metric_loss_first(tmp_path):
    figure = plots.training_curves(_history(), path=tmp_path / "curves.png")
    assert isinstance(figure, Figure)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "accuracy", "auc"]
    loss = visible[0]
    assert [line.get_label() for line in loss.get_lines()] == ["train", "validation"]
    np.testing.assert_allclose(loss.get_lines()[1].get_ydata(), [1.1, 0.8, 0.6, 0.5])
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG
    assert not list(tmp_path.glob(".*tmp*"))  # the atomic write left nothing behind


def test_training_curves_shade_fine_tuning_stages():
    figure = plots.training_curves(_history(stages=True), metrics=["loss"])
    ax = figure.axes[0]
    assert len(ax.patches) == 2  # one shaded span per stage
    assert [text.get_text() for text in ax.texts] == ["head", "fine_tune"]
    assert ax.patches[1].get_x() == pytest.approx(2.5)  # fine_tune starts at epoch 3


def test_training_curves_accept_keras_history_and_dicts():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0)
    assert [ax.get_title() for ax in plots.training_curves(history).axes] == ["loss"]
    assert plots.training_curves({"loss": [1.0, 0.5]}).axes[0].get_lines()[0].get_xdata()[-1] == 2


def test_training_curves_bad_input():
    with pytest.raises(ValueError, match=r"Unknown metric 'acc'.*accuracy"):
        plots.training_curves(_history(), metrics=["acc"])
    with pytest.raises(TypeError, match="a training result, a keras History"):
        plots.training_curves([1, 2, 3])
    with pytest.raises(ValueError, match="at least one epoch"):
        plots.training_curves(pd.DataFrame())
    with pytest.raises(ValueError, match=r"ending in \.png"):
        plots.training_curves(_history(), path="curves.jpg")


def test_confusion_matrix_counts_and_fractions(tmp_path):
    confusion = pd.DataFrame([[5, 1], [2, 2]], index=["cat", "dog"], columns=["cat", "dog"])
    figure = plots.confusion_matrix(confusion, path=tmp_path / "confusion.png")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == ["5", "1", "2", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog"]
    fractions = plots.confusion_matrix(confusion.to_numpy(), normalize=True).axes[0]
    assert [t.get_text() for t in fractions.texts] == ["0.83", "0.17", "0.50", "0.50"]
    assert (tmp_path / "confusion.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match=r"square matrix.*\(2, 3\)"):
        plots.confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="has no confusion matrix"):
        plots.confusion_matrix(type("Result", (), {"confusion": None})())


def test_lr_find_and_tuning_plots():
    table = pd.DataFrame({"lr": np.logspace(-5, 0, 20), "smoothed_loss": np.linspace(2, 1, 20)})
    ax = plots.lr_find(table, 1e-3).axes[0]
    assert ax.get_xscale() == "log" and "1.00e-03" in ax.get_legend().get_texts()[1].get_text()
    trials = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "status": ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED"],
            "score": [0.5, 0.3, np.nan, 0.4],
        }
    )
    ax = plots.tuning(trials, objective="val_loss", direction="min").axes[0]
    best = next(line for line in ax.get_lines() if line.get_label() == "best so far")
    np.testing.assert_allclose(best.get_ydata(), [0.5, 0.3, 0.3])
    assert ax.get_ylabel() == "val_loss"
    with pytest.raises(ValueError, match="trial, status and score"):
        plots.tuning(pd.DataFrame({"trial": [0]}))
    with pytest.raises(ValueError, match="direction"):
        plots.tuning(trials, direction="up")


def test_image_grid_scales_ranges_and_checks_shapes(tmp_path):
    rng = np.random.default_rng(0)
    figure = plots.image_grid(
        rng.uniform(-1, 1, (10, 8, 8, 1)), columns=5, titles=list(range(10)), title="samples"
    )
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 10 and len(figure.axes) == 10
    pixels = shown[0].images[0].get_array()
    assert pixels.shape == (8, 8) and pixels.min() >= 0 and pixels.max() <= 1
    rgb = plots.image_grid(rng.uniform(0, 255, (3, 8, 8, 3)), path=tmp_path / "grid.png")
    assert rgb.axes[0].images[0].get_array().shape == (8, 8, 3)
    assert (tmp_path / "grid.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match=r"\(n, height, width.*Received: images=\(8, 8\)"):
        plots.image_grid(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="one caption per image"):
        plots.image_grid(np.zeros((2, 4, 4)), titles=["a"])
    with pytest.raises(ValueError, match="high > low"):
        plots.image_grid(np.zeros((2, 4, 4)), value_range=(1, 1))


def test_reconstructions_pairs_rows():
    originals = np.random.default_rng(0).uniform(0, 1, (5, 8, 8, 1))
    figure = plots.reconstructions(originals, originals * 0.5, n=3)
    titled = [ax.get_title() for ax in figure.axes if ax.images]
    assert titled == ["original", "", "", "reconstructed", "", ""]
    with pytest.raises(ValueError, match="shaped like the originals"):
        plots.reconstructions(originals, np.zeros((5, 4, 4, 1)))


def test_save_beside_writes_the_runs_plots_and_never_fails_the_run(tmp_path):
    written = plots.save_beside(tmp_path, history=_history(), confusion=np.eye(3))
    assert sorted(p.name for p in written) == ["confusion.png", "curves.png"]
    with pytest.warns(UserWarning, match="could not save"):
        assert plots.save_beside(tmp_path, history=pd.DataFrame()) == []


def test_plots_is_public():
    assert zoo.plots is plots and callable(zoo.plots.image_grid)


def test_figures_show_as_png_in_ipython_without_pyplot():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        figure = plots.image_grid(np.zeros((2, 4, 4)))
        data, _ = shell.display_formatter.format(figure)
        assert data["image/png"][:8] == PNG
    finally:
        InteractiveShell.clear_instance()
