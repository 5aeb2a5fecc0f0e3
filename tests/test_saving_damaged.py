"""Damaged and lying saved models: every one ends in one DamagedFileError naming it."""

import json
import re
import shutil
import zipfile

import keras
import numpy as np
import pytest

import zoo
from zoo import _archive, registry, saving
from zoo import _validation as v


@pytest.fixture
def saved(tmp_path):
    """A saved mlp_tiny folder (the card verifies)."""
    return zoo.save(zoo.build("mlp_tiny"), tmp_path / "m")


def _card(folder):
    return json.loads((folder / "zoo.json").read_text())


def _write_card(folder, card):
    (folder / "zoo.json").write_text(json.dumps(card))


def _damage(folder, match):
    """Load `folder`; expect one DamagedFileError naming the folder and the damage."""
    with pytest.raises(v.DamagedFileError, match=match) as caught:
        zoo.load(folder)
    message = str(caught.value)
    assert str(folder) in message, message
    assert "Received: name_or_path=" in message
    return message


def _rezip(source, target, replace):
    """Copy a .keras archive with some members replaced (valid CRCs: damage inside)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    new.writestr(info.filename, replace[info.filename])
            else:
                new.writestr(info, old.read(info))


# ------------------------------------------------------------------------ the checksum


def test_wrong_checksum_names_both_values_and_the_file(saved):
    card = _card(saved)
    right, wrong = card["sha256"], "0" * 64
    _write_card(saved, {**card, "sha256": wrong})
    message = _damage(saved, "sha256")
    assert right in message and wrong in message and "model.keras" in message
    assert "verify=False" in message


def test_an_edited_model_loads_with_verify_false(saved):
    edited = zoo.build("mlp_tiny", units=(6,))
    edited.save(saved / "model.keras")  # a deliberate edit: the card still describes (16,)
    _damage(saved, "changed after it was saved")
    model = zoo.load(saved, verify=False)
    assert model.count_params() == edited.count_params()
    # The card's claims do not hold for the edited model: nothing of it is recorded, so
    # the next save writes a true card.
    assert registry.get_spec(model) is None
    again = zoo.save(model, saved.parent / "again")
    assert _card(again)["architecture"] is None
    assert zoo.load(again).count_params() == edited.count_params()


def test_verify_false_keeps_an_architecture_that_holds(saved):
    model = zoo.load(saved, verify=False)
    assert registry.get_spec(model)["architecture"] == "mlp_tiny"
    with pytest.raises(TypeError, match="verify"):
        zoo.load(saved, verify="no")


# ------------------------------------------------------------------------ lying claims


def test_a_lying_architecture_is_refused_and_not_passed_on(saved):
    card = _card(saved)
    _write_card(saved, {**card, "architecture": "resnet_50"})
    message = _damage(saved, "resnet_50")
    assert "'units'" in message  # resnet_50 takes no `units`: the arguments are the mlp's
    _write_card(saved, {**card, "architecture": "resnet_50", "arguments": {}})
    message = _damage(saved, "parameters")
    truth = zoo.build("mlp_tiny").count_params()
    assert "25,610,152" in message and f"{truth:,}" in message


def test_lying_arguments_are_refused(saved):
    card = _card(saved)
    _write_card(saved, {**card, "arguments": {**card["arguments"], "units": [64, 64]}})
    message = _damage(saved, r"mlp_tiny.*parameters")
    assert "[64, 64]" in message


def test_an_unregistered_architecture_is_never_imported(saved):
    card = _card(saved)
    for name in ("os:system", "builtins.eval", "no_such_network"):
        _write_card(saved, {**card, "architecture": name})
        _damage(saved, "not a registered zoo architecture")


@pytest.mark.parametrize(
    ("field", "lie", "match"),
    [
        ("params", {"total": 999, "trainable": 314}, r"params\.total = 999.*has 314"),
        ("params", {"total": 314, "trainable": 1}, r"params\.trainable = 1.*has 314"),
        ("input_shape", [None, 9], r"input_shape = \[null, 9\].*\[null, 8\]"),
        ("output_shape", [None, 3], r"output_shape = \[null, 3\].*\[null, 10\]"),
    ],
)
def test_lying_counts_and_shapes_name_claim_and_truth(saved, field, lie, match):
    _write_card(saved, {**_card(saved), field: lie})
    _damage(saved, match)
    assert zoo.load(saved, verify=False).count_params() == 314


# ----------------------------------------------------------------------- damaged archives


def test_truncated_archive(saved):
    data = (saved / "model.keras").read_bytes()
    (saved / "model.keras").write_bytes(data[: len(data) // 2])
    _damage(saved, "truncated")
    (saved / "model.keras").write_bytes(b"")
    _damage(saved, "empty")


def test_flipped_byte_in_the_middle_names_the_member(saved):
    path = saved / "model.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    message = _damage(saved, "CRC-32")
    assert "'model.weights.h5'" in message and "model.keras" in message


def test_any_flipped_byte_is_damage_not_a_stray_error(saved, tmp_path):
    """A byte flipped anywhere: one DamagedFileError (the checksum catches the rest)."""
    data = (saved / "model.keras").read_bytes()
    for offset in range(0, len(data), max(1, len(data) // 40)):
        copy = tmp_path / f"flip{offset}"
        shutil.copytree(saved, copy)
        flipped = bytearray(data)
        flipped[offset] ^= 0x5A
        (copy / "model.keras").write_bytes(bytes(flipped))
        with pytest.raises(v.DamagedFileError, match=re.escape(str(copy))):
            zoo.load(copy)


def test_a_bare_keras_file_is_checked_too(saved, tmp_path):
    bare = tmp_path / "bare.keras"
    shutil.copy(saved / "model.keras", bare)
    assert zoo.load(bare).count_params() == 314  # no card: nothing to verify but the zip
    assert zoo.load_card(bare) == {}
    bare.write_bytes(bare.read_bytes()[:-100])
    with pytest.raises(v.DamagedFileError, match=rf"{re.escape(str(bare))}.*truncated"):
        zoo.load(bare)


def test_damage_inside_a_whole_archive_is_named(saved, tmp_path):
    # Valid CRCs, bad contents: caught by Keras's own reading, reported as damage.
    source = saved / "model.keras"
    cases = {
        "weights.keras": ({"model.weights.h5": b"not hdf5" * 100}, "weights"),
        "config.keras": ({"config.json": b"{not json"}, "config.json|JSON"),
        "noconfig.keras": ({"config.json": None}, "no config.json"),
        "noweights.keras": ({"model.weights.h5": None}, "no model.weights.h5"),
    }
    for name, (replace, match) in cases.items():
        _rezip(source, tmp_path / name, replace)
        with pytest.raises(v.DamagedFileError, match=match) as caught:
            zoo.load(tmp_path / name)
        assert str(tmp_path / name) in str(caught.value)


def test_h5_file_named_keras(tmp_path):
    (tmp_path / "old.keras").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(v.DamagedFileError, match="HDF5"):
        zoo.load(tmp_path / "old.keras")


def test_a_missing_custom_class_is_not_called_damage(tmp_path):
    @keras.saving.register_keras_serializable(package="zoo_test_damaged")
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((3,))
    keras.Model(inputs, Doubling()(inputs)).save(tmp_path / "custom.keras")
    del keras.saving.get_custom_objects()["zoo_test_damaged>Doubling"]
    with pytest.raises(Exception) as caught:
        zoo.load(tmp_path / "custom.keras")
    assert not isinstance(caught.value, v.DamagedFileError)
    assert "Doubling" in str(caught.value)


# --------------------------------------------------------------------------- bad cards


def test_invalid_json_names_line_and_column(saved):
    (saved / "zoo.json").write_text('{\n  "name": "m",\n  "params": {oops}\n}\n')
    for call in (zoo.load, zoo.load_card):
        with pytest.raises(v.DamagedFileError, match=r"invalid JSON at line 3, column 14"):
            call(saved)
    (saved / "zoo.json").write_bytes(b'{"name": "\xff"}')
    _damage(saved, "not UTF-8")
    (saved / "zoo.json").write_text("[" * 100_000 + "]" * 100_000)
    _damage(saved, "nested too deeply|not a JSON object")


def test_a_card_that_is_a_list_is_damage(saved):
    _write_card(saved, [_card(saved)])
    _damage(saved, "a JSON list, not a JSON object")
    with pytest.raises(v.DamagedFileError, match=r"zoo\.json"):
        zoo.load_card(saved)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("params", "314"),
        ("params", {"total": True}),
        ("sha256", 12),
        ("sha256", "abc"),
        ("arguments", ["units", 16]),
        ("architecture", 7),
        ("input_shape", "(None, 8)"),
        ("versions", {"keras": 3}),
        ("model_file", "../../other.keras"),
    ],
)
def test_fields_of_the_wrong_type(saved, field, value):
    _write_card(saved, {**_card(saved), field: value})
    message = _damage(saved, f"field '{field}' must be")
    assert json.dumps(value) in message
    with pytest.raises(v.DamagedFileError, match=field):
        zoo.load_card(saved)
    with pytest.raises(v.DamagedFileError):  # a malformed card is never used
        zoo.load(saved, verify=False)


def test_a_missing_card_still_loads(saved):
    (saved / "zoo.json").unlink()
    model = zoo.load(saved)
    assert model.count_params() == 314 and registry.get_spec(model) is None
    assert zoo.load_card(saved) == {}


def test_an_old_card_without_checksum_or_counts_still_loads(saved):
    card = _card(saved)
    old = {key: card[key] for key in ("name", "architecture", "arguments")}
    _write_card(saved, old)
    assert registry.get_spec(zoo.load(saved))["architecture"] == "mlp_tiny"


def test_predict_and_evaluate_get_the_same_error(saved):
    _write_card(saved, {**_card(saved), "sha256": "1" * 64})
    with pytest.raises(v.DamagedFileError, match="sha256"):
        zoo.predict(saved, np.zeros((1, 8), "float32"))


def test_save_refuses_the_cards_own_fields(tmp_path):
    for key in ("sha256", "architecture", "params"):
        with pytest.raises(v.ArgumentValueError, match=key):
            zoo.save(zoo.build("mlp_tiny"), tmp_path / "x", **{key: "lie"})
    assert not (tmp_path / "x").exists()
    assert set(saving.CARD_FIELDS) <= set(_card(zoo.save(zoo.build("mlp_tiny"), tmp_path / "y")))


def test_a_missing_keras_file_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No saved model at .*absent\.keras"):
        zoo.load(tmp_path / "absent.keras")


def test_an_image_classifier_card_is_verified_through_its_backbone_row(tmp_path):
    from zoo.transfer import image_classifier

    model = image_classifier("mobilenet_v2", 2, weights=None, input_shape=(32, 32, 3))
    folder = zoo.save(model, tmp_path / "classifier")
    card = _card(folder)
    assert card["arguments"]["backbone"] == card["architecture"]  # not a row argument
    assert registry.get_spec(zoo.load(folder))["architecture"] == "mobilenet_v2.keras_in1k"
    _write_card(folder, {**card, "arguments": {**card["arguments"], "num_classes": 7}})
    _damage(folder, r"mobilenet_v2\.keras_in1k.*parameters")


def test_the_shipped_checkpoint_has_a_card_that_verifies():
    from zoo.transfer import demo

    folder = demo.find_checkpoint()
    card = zoo.load_card(folder)
    assert _archive.sha256(folder / "model.keras") == card["sha256"]
    assert zoo.load(folder).count_params() == card["params"]["total"]


def test_a_damaged_shipped_checkpoint_is_named(tmp_path, monkeypatch):
    import shutil

    from zoo.architectures.pretrained import checkpoints

    shipped = checkpoints.shipped_models_dir()
    copy = tmp_path / "checkpoints"
    shutil.copytree(shipped, copy)
    monkeypatch.setattr(checkpoints, "shipped_models_dir", lambda: copy)
    name = "digits_convnet_pretrained"
    assert checkpoints.checkpoint_file(name) == copy / name / "model.keras"
    model_file = copy / name / "model.keras"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(zoo.DamagedFileError, match="shipped checkpoint 'digits_convnet_pretra"):
        checkpoints.load_checkpoint(name)
