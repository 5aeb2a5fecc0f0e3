"""Small data written on the fly for tests."""

import numpy as np
from PIL import Image


def write_images(root, classes=("cat", "dog"), per_class=10, size=(12, 10), formats=("png",)):
    """Write small random images: root/<class>/<i>.<fmt> (size is width x height)."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
            pixels[..., c % 3] = 255  # a class signal
            fmt = formats[i % len(formats)]
            image = Image.fromarray(pixels)
            if fmt == "gif":
                image = image.convert("P")
            image.save(folder / f"{i}.{fmt}")
    return root
