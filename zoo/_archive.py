"""Whether a ``.keras`` file is a whole Keras archive, and its checksum (no Keras needed).

Used by :mod:`zoo.saving` (every load) and by the shipped checkpoints, which sit below
it in the layers.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path

# Keras reads a member of a .keras archive into memory; a member that claims to expand
# far beyond what it stores is not a Keras save (Keras refuses such bombs too).
_MAX_EXPANSION, _BOMB_FLOOR = 100, 1 << 26
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def problem(model_file: Path) -> str | None:
    """What is wrong with `model_file` as a Keras zip archive (every CRC read), or None.

    Example:
        >>> problem(Path("empty.keras"))  # doctest: +SKIP
        'the file is empty (0 bytes)'
    """
    if not zipfile.is_zipfile(model_file):
        size = model_file.stat().st_size
        with open(model_file, "rb") as handle:
            head = handle.read(8)
        if size == 0:
            return "the file is empty (0 bytes)"
        if head.startswith(b"PK"):
            return (
                f"the zip archive is truncated ({size:,} bytes, its end is missing; a copy "
                "or download was cut short?)"
            )
        if head == _HDF5_MAGIC:
            return (
                "it is an HDF5 file (Keras 2's .h5 format) named .keras; a .keras file is "
                "a zip archive"
            )
        return f"it is not a zip archive ({size:,} bytes; a .keras file is one)"
    member = None
    try:
        with zipfile.ZipFile(model_file) as archive:
            infos = archive.infolist()
            for info in infos:
                member = info.filename
                if (
                    info.file_size > _BOMB_FLOOR
                    and info.file_size > _MAX_EXPANSION * info.compress_size
                ):
                    return (
                        f"member {member!r} claims {info.file_size:,} bytes but stores "
                        f"{info.compress_size:,} (a decompression bomb, not a Keras save)"
                    )
                with archive.open(info) as handle:  # reading to the end checks the CRC-32
                    while handle.read(1 << 20):
                        pass
    except ZIP_ERRORS as error:
        if member is None:
            return f"its zip directory is broken ({error})"
        if "CRC" in str(error):
            return f"bad CRC-32 in member {member!r} (its bytes changed after saving)"
        return f"member {member!r} cannot be read ({type(error).__name__}: {error})"
    names = sorted(info.filename for info in infos)
    if "config.json" not in names:
        return f"the zip archive has no config.json (members: {names}); not a Keras model"
    if not {"model.weights.h5", "model.weights.npz"} & set(names):
        return (
            f"the zip archive has no model.weights.h5 (members: {names}); the weights are missing"
        )
    return None
