import functools
import hashlib
import http.server
import importlib
import os
import threading
import time

import pytest

from zoo import cli
from zoo._validation import ArgumentValueError
from zoo.architectures.pretrained import imagenet
from zoo.transfer import BACKBONES, weights
from zoo.transfer.backbones import resolve_weights

NAME = "resnet_50.keras_in1k"
FILE = BACKBONES[NAME].weights_file
# A tiny stand-in for a weights file: starts with the HDF5 signature.
GOOD = b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 64
BAD = b"\x89HDF\r\n\x1a\n" + b"corrupted" * 100


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    for name in ("ZOO_WEIGHTS_DIR", "ZOO_OFFLINE", "ZOO_WEIGHTS_MIRROR"):
        monkeypatch.delenv(name, raising=False)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/truncated/"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[:100])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local HTTP mirror serving tmp_path/mirror; the table expects GOOD for NAME."""
    root = tmp_path / "mirror"
    root.mkdir()
    (root / FILE).write_bytes(GOOD)
    expected = weights.WeightsSource(weights.WEIGHTS[NAME].url, hashlib.md5(GOOD).hexdigest())
    monkeypatch.setitem(weights.WEIGHTS, NAME, expected)
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.root = root
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))  # zoo._fs


def test_table_covers_exactly_the_backbones():
    assert set(weights.WEIGHTS) == set(BACKBONES)
    for name, source in weights.WEIGHTS.items():
        assert source.url.startswith("https://storage.googleapis.com/")
        assert source.url.endswith("/" + BACKBONES[name].weights_file)
        if source.file_hash is not None:
            assert len(source.file_hash) in (32, 64)
            int(source.file_hash, 16)
    assert weights.WEIGHTS["convnext_tiny.keras_in1k"].algorithm == "sha256"
    assert weights.WEIGHTS["resnet_50.keras_in1k"].algorithm == "md5"
    assert weights.WEIGHTS["mobilenet_v2.keras_in1k"].algorithm is None
    assert weights.WEIGHTS is imagenet.WEIGHTS


def test_table_matches_keras_source_constants():
    apps = "keras.src.applications."
    try:
        modules = {
            m: importlib.import_module(apps + m)
            for m in (
                "convnext",
                "densenet",
                "efficientnet",
                "efficientnet_v2",
                "inception_v3",
                "mobilenet_v2",
                "mobilenet_v3",
                "resnet",
                "vgg16",
                "xception",
            )
        }
    except ImportError:  # pragma: no cover - Keras moved its private modules
        pytest.skip("keras.src.applications is not importable")
    table = weights.WEIGHTS
    hashed = {
        "mobilenet_v3_small": ("mobilenet_v3", "BASE_WEIGHT_PATH", "small_224_1.0_float"),
        "mobilenet_v3_large": ("mobilenet_v3", "BASE_WEIGHT_PATH", "large_224_1.0_float"),
        "resnet_50": ("resnet", "BASE_WEIGHTS_PATH", "resnet50"),
        "resnet_50_v2": ("resnet", "BASE_WEIGHTS_PATH", "resnet50v2"),
        "efficientnet_b0": ("efficientnet", "BASE_WEIGHTS_PATH", "b0"),
        "efficientnet_v2_b0": ("efficientnet_v2", "BASE_WEIGHTS_PATH", "b0"),
        "convnext_tiny": ("convnext", "BASE_WEIGHTS_PATH", "convnext_tiny"),
    }
    for bare, (module, base, key) in hashed.items():
        name = f"{bare}.keras_in1k"
        module = modules[module]
        assert table[name].file_hash == module.WEIGHTS_HASHES[key][1], name
        assert table[name].url == getattr(module, base) + BACKBONES[name].weights_file, name
    assert table["mobilenet_v2.keras_in1k"].url == (
        modules["mobilenet_v2"].BASE_WEIGHT_PATH + BACKBONES["mobilenet_v2"].weights_file
    )
    inline = {
        "densenet_121": ("densenet", "DENSENET121_WEIGHT_PATH_NO_TOP"),
        "xception": ("xception", "WEIGHTS_PATH_NO_TOP"),
        "inception_v3": ("inception_v3", "WEIGHTS_PATH_NO_TOP"),
        "vgg_16": ("vgg16", "WEIGHTS_PATH_NO_TOP"),
    }
    for bare, (module, constant) in inline.items():
        name = f"{bare}.keras_in1k"
        assert table[name].url == getattr(modules[module], constant), name
        with open(modules[module].__file__) as handle:
            assert f'file_hash="{table[name].file_hash}"' in handle.read(), name


def test_table_matches_what_keras_downloads(monkeypatch):
    """Intercept keras.applications' own get_file call for every backbone."""
    try:
        from keras.src.utils import file_utils
    except ImportError:  # pragma: no cover
        pytest.skip("keras.src.utils.file_utils is not importable")
    import keras

    from zoo._compat.keras import variables_without_values

    class Intercepted(Exception):
        pass

    calls = {}

    def fake_get_file(fname=None, origin=None, **kwargs):
        calls[fname] = (origin, kwargs.get("file_hash"), kwargs.get("hash_algorithm", "auto"))
        raise Intercepted

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    for name, spec in BACKBONES.items():
        with pytest.raises(Intercepted), variables_without_values():
            getattr(keras.applications, spec.application)(
                include_top=False, weights="imagenet", **spec.extra
            )
        origin, file_hash, algorithm = calls[spec.weights_file]
        assert (origin, file_hash) == (weights.WEIGHTS[name].url, weights.WEIGHTS[name].file_hash)
        assert algorithm == "auto", name  # so the hash length decides, as in WeightsSource


def test_pull_from_mirror_downloads_then_reports_present(mirror, tmp_path):
    folder = tmp_path / "weights"
    table = weights.pull(NAME, mirror=mirror.url, folder=folder, progress=False)
    assert list(table.columns) == weights.COLUMNS
    row = table.iloc[0]
    assert row["status"] == "downloaded" and row["error"] == ""
    assert row["source"] == f"{mirror.url}/{FILE}"
    assert row["bytes"] == len(GOOD) and row["check"] == "md5"
    assert (folder / FILE).read_bytes() == GOOD
    assert _leftovers(folder) == []
    again = weights.pull([NAME], mirror=mirror.url, folder=folder, progress=True)
    assert again.iloc[0]["status"] == "present" and again.iloc[0]["source"] == ""
    forced = weights.pull([NAME], mirror=mirror.url, folder=folder, force=True, progress=False)
    assert forced.iloc[0]["status"] == "downloaded"


def test_default_folder_is_keras_cache_then_weights_dir(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", mirror.url + "/")
    table = weights.pull([NAME], progress=False)
    assert table.iloc[0]["file"] == str(tmp_path / "keras_home" / "models" / FILE)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "mine"))
    table = weights.pull([NAME], progress=False)
    assert table.iloc[0]["file"] == str(tmp_path / "mine" / FILE)
    assert weights.pull([NAME], progress=False).iloc[0]["status"] == "present"


def test_local_folder_mirror(mirror, tmp_path):
    table = weights.pull(NAME, mirror=mirror.root, folder=tmp_path / "w", progress=False)
    assert table.iloc[0]["status"] == "downloaded"
    assert table.iloc[0]["source"].startswith("file://")


def test_corrupted_mirror_file_fails_and_leaves_nothing(mirror, tmp_path):
    (mirror.root / FILE).write_bytes(BAD)
    folder = tmp_path / "weights"
    with pytest.raises(weights.WeightsDownloadError) as info:
        weights.pull(NAME, mirror=mirror.url, folder=folder, progress=False)
    message = str(info.value)
    assert hashlib.md5(GOOD).hexdigest() in message and hashlib.md5(BAD).hexdigest() in message
    assert NAME in message and str(folder) in message
    row = info.value.table.iloc[0]
    assert row["status"] == "failed" and "checksum mismatch: expected" in row["error"]
    assert not (folder / FILE).exists()
    assert _leftovers(folder) == []


def test_failed_download_keeps_a_good_existing_file(mirror, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / FILE).write_bytes(GOOD)
    (mirror.root / FILE).write_bytes(BAD)
    table = weights.pull(
        NAME, mirror=mirror.url, folder=folder, force=True, raise_errors=False, progress=False
    )
    assert table.iloc[0]["status"] == "failed"
    assert (folder / FILE).read_bytes() == GOOD
    assert _leftovers(folder) == []


def test_bad_existing_file_is_replaced(mirror, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / FILE).write_bytes(BAD)
    table = weights.pull(NAME, mirror=mirror.url, folder=folder, progress=False)
    assert table.iloc[0]["status"] == "downloaded"
    assert (folder / FILE).read_bytes() == GOOD


def test_truncated_download_fails_and_leaves_nothing(mirror, tmp_path):
    folder = tmp_path / "weights"
    table = weights.pull(
        NAME,
        mirror=mirror.url + "/truncated",
        folder=folder,
        raise_errors=False,
        progress=False,
    )
    row = table.iloc[0]
    assert row["status"] == "failed" and "incomplete" in row["error"].lower()
    assert not (folder / FILE).exists() and _leftovers(folder) == []


def test_not_found_fails_quickly_with_url(mirror, tmp_path):
    (mirror.root / FILE).unlink()
    start = time.perf_counter()
    table = weights.pull(
        [NAME], mirror=mirror.url, folder=tmp_path / "w", raise_errors=False, progress=False
    )
    assert time.perf_counter() - start < 5
    row = table.iloc[0]
    assert row["status"] == "failed"
    assert "404" in row["error"] and f"{mirror.url}/{FILE}" in row["error"]


def test_connection_refused_fails_quickly(tmp_path):
    import socket

    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.perf_counter()
    table = weights.pull(
        "vgg_16.keras_in1k",
        mirror=f"http://127.0.0.1:{port}",
        folder=tmp_path,
        raise_errors=False,
        progress=False,
    )
    assert time.perf_counter() - start < 5
    assert table.iloc[0]["status"] == "failed" and str(port) in table.iloc[0]["error"]


def test_unknown_name_lists_close_matches_before_downloading(tmp_path):
    with pytest.raises(
        ArgumentValueError, match=r"resnet_50\.keras_in1k.*Received: backbone='resnet_5'"
    ):
        weights.pull(
            ["vgg_16.keras_in1k", "resnet_5"], mirror="http://127.0.0.1:9", folder=tmp_path
        )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="Received: names="):
        weights.pull([3], folder=tmp_path)
    with pytest.raises(ValueError, match="Received: mirror='ftp://x'"):
        weights.pull("vgg_16.keras_in1k", mirror="ftp://x", folder=tmp_path)


def test_bare_and_old_names_mean_the_catalogue_rows(mirror, tmp_path):
    assert weights.source_url("mobilenet_v2") == weights.WEIGHTS["mobilenet_v2.keras_in1k"].url
    with pytest.warns(DeprecationWarning, match=r"'resnet50'.*'resnet_50\.keras_in1k'"):
        table = weights.pull("resnet50", mirror=mirror.url, folder=tmp_path, progress=False)
    assert list(table["name"]) == [NAME] and table.iloc[0]["status"] == "downloaded"
    assert list(weights.list_weights("resnet_50")["name"]) == [NAME]


def test_all_expands_to_every_backbone(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(ArgumentValueError) as info:
        weights.pull("all", folder=tmp_path)
    for spec in BACKBONES.values():
        assert spec.weights_file in str(info.value)


def test_offline_fails_at_once_naming_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", "http://10.255.255.1")  # never contacted
    start = time.perf_counter()
    with pytest.raises(ArgumentValueError) as info:
        weights.pull(["vgg_16.keras_in1k", "xception"])
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert BACKBONES["vgg_16.keras_in1k"].weights_file in message
    assert BACKBONES["xception"].weights_file in message
    assert str(tmp_path / "keras_home" / "models") in message
    assert "ZOO_OFFLINE=1" in message
    assert message.endswith("Received: names=['vgg_16.keras_in1k', 'xception.keras_in1k']")


def test_offline_with_good_local_copy_reports_present(mirror, tmp_path, monkeypatch):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / FILE).write_bytes(GOOD)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert weights.pull(NAME, folder=folder).iloc[0]["status"] == "present"


def test_hdf5_signature_check_without_published_hash(tmp_path):
    source = weights.WEIGHTS["mobilenet_v2.keras_in1k"]
    good, bad = tmp_path / "good.h5", tmp_path / "bad.h5"
    good.write_bytes(GOOD)
    bad.write_bytes(b"<html>not found</html>")
    assert imagenet._verify(good, source) is None
    assert "HDF5" in imagenet._verify(bad, source)


def test_cli_pull_exit_codes(mirror, tmp_path, capsys):
    folder = str(tmp_path / "w")
    args = ["weights", "pull", NAME, "--mirror", mirror.url, "--folder", folder, "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "downloaded" in out and NAME in out and "1 downloaded, 0 present, 0 failed" in out
    assert cli.main(args) == 0
    assert "present" in capsys.readouterr().out
    (mirror.root / FILE).write_bytes(BAD)
    assert cli.main([*args, "--force"]) == 1
    captured = capsys.readouterr()
    assert "failed" in captured.out and "checksum mismatch" in captured.err
    assert cli.main(["weights", "pull", "resnet_50", "--folder", folder]) == 2
    assert "resnet_50.keras_in1k" in capsys.readouterr().err  # zoo's resnet_50 has no weights


def test_cli_weights_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / FILE).write_bytes(GOOD)
    assert cli.main(["weights", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "file", "offline", "folder"]
    row = next(line for line in lines if line.startswith(NAME + " "))
    assert "True" in row and str(tmp_path) in row
    assert any(line.startswith("vgg_16.keras_in1k ") and "False" in line for line in lines)


def test_resolve_weights_pulls_from_mirror_into_cache(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", mirror.url)
    source, description = resolve_weights(NAME, "imagenet")
    cache = tmp_path / "keras_home" / "models" / FILE
    assert source == str(cache) and cache.read_bytes() == GOOD
    assert mirror.url in description
    assert resolve_weights(NAME, "imagenet")[0] == str(cache)  # now found locally
    os.remove(cache)
    (mirror.root / FILE).write_bytes(BAD)
    with pytest.raises(ArgumentValueError, match=r"mirror failed.*checksum mismatch"):
        resolve_weights(NAME, "imagenet")
    assert not cache.exists()


def test_resolve_weights_without_mirror_keeps_keras_download():
    assert resolve_weights(NAME, "imagenet") == ("imagenet", "imagenet (downloaded by Keras)")
