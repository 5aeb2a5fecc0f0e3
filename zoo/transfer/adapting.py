"""What ``fine_tune`` checks before it works: the data's images against the model's input.

The check runs once the data is loaded, before any backbone is built, any feature is
computed or any epoch runs. The data's shape (``data.input_shape``) is compared with
the shape the network takes; a mismatch is either adapted or refused:

- **adapted** (one printed line says how): resized to the model's height and width,
  grey turned into RGB (the channel repeated), or pixels rescaled to the scale the
  model was trained on. The same operations run in the training pipelines (``tf.data``)
  and, as Keras layers (``Resizing``, ``Concatenate``, ``Rescaling``), in the saved
  model's preprocessing, so the saved model takes what the data's images are;
- **refused** with a zoo error naming both shapes and the fix (``image_size=``,
  ``color_mode=``).

What is adapted depends on where the data comes from. A source that ``fine_tune``
loads itself (a folder, ``"digits"``, arrays) is made to fit: image folders are read at
the model's size and colours, anything else is resized and turned RGB as needed. A
``zoo.data.Data`` loaded by the caller is adapted only where nothing is lost, grey to
RGB and upsampling to a larger model input; shrinking images or dropping colour is
refused (the caller chose that resolution; ``zoo.data.load(..., image_size=...)`` is
the fix). A backbone given by name is built at the data's resolution, or at its
smallest input when the images are smaller, or at ``image_size=`` when given.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import keras

from zoo import _validation as v
from zoo.data.images import GREY_MODES, UnusableImageError, open_image

_COLOURS = {1: "grey", 3: "RGB"}
_COLOR_MODE = {1: "grayscale", 3: "rgb"}


@dataclasses.dataclass(frozen=True)
class Adaptation:
    """How images are changed to fit a network: rescaled, resized, grey to RGB.

    Attributes:
        size: the (height, width) images are resized to, or None.
        to_rgb: whether grey images are turned into RGB (the channel repeated).
        factor: a factor on pixel values (1: unchanged), where the data's pixel scale
            is not the one the model was trained on.
    """

    size: tuple[int, int] | None = None
    to_rgb: bool = False
    factor: float = 1.0

    def __bool__(self) -> bool:
        return self.size is not None or self.to_rgb or self.factor != 1.0

    def describe(self) -> dict[str, Any] | None:
        """The adaptation for a model card (None when there is none)."""
        if not self:
            return None
        return {
            "resize_to": None if self.size is None else list(self.size),
            "grey_to_rgb": self.to_rgb,
            "pixel_factor": self.factor,
        }

    def shape(self, shape: tuple[Any, ...]) -> tuple[Any, ...]:
        """The shape of an adapted image of `shape` (height, width, channels)."""
        if not self:
            return tuple(shape)
        height, width = self.size if self.size is not None else shape[:2]
        return (height, width, 3 if self.to_rgb else shape[-1])

    def pipelines(self, data):
        """`data` with every split (and worker share) adapted in its ``tf.data`` pipeline."""
        if not self:
            return data
        import tensorflow as tf

        size, to_rgb, factor = self.size, self.to_rgb, self.factor

        def adapt(images):
            images = tf.cast(images, tf.float32)
            if factor != 1.0:
                images = images * factor
            if size is not None:
                images = tf.image.resize(images, size, antialias=True)
            if to_rgb:
                images = tf.image.grayscale_to_rgb(images)
            return images

        return data.map_inputs(adapt, self.shape(data.input_shape))

    def preprocessor(self, preprocessor: keras.Model | None, raw_shape: tuple[Any, ...]):
        """Raw input -> `preprocessor` -> the adaptation, as one model named "preprocessing".

        Args:
            preprocessor: the data's raw-input preprocessing, or None.
            raw_shape: the raw images' shape when there is no preprocessor.
        """
        from zoo.layers.preprocessing import PREPROCESSING

        if not self:
            return preprocessor
        if preprocessor is not None:
            inputs = keras.Input(batch_shape=preprocessor.input.shape, name="pixels")
            x = preprocessor(inputs)
        else:
            inputs = keras.Input(tuple(raw_shape), name="pixels")
            x = inputs
        if self.factor != 1.0:
            x = keras.layers.Rescaling(self.factor, name="fit_scale")(x)
        if self.size is not None:
            x = keras.layers.Resizing(*self.size, antialias=True, name="fit_size")(x)
        if self.to_rgb:
            x = keras.layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])
        return keras.Model(inputs, x, name=PREPROCESSING)


def describe_shape(shape: tuple[Any, ...]) -> str:
    """``24x24 RGB`` for an image shape, else the tuple.

    Example:
        >>> describe_shape((8, 8, 1))
        '8x8 grey'
    """
    if len(shape) == 3:
        height, width, channels = shape
        colour = _COLOURS.get(channels, f"{channels}-channel")
        return f"{height or 'any'}x{width or 'any'} {colour}"
    return str(tuple(shape))


def _fits(data_shape: tuple[Any, ...], model_shape: tuple[Any, ...]) -> bool:
    return len(data_shape) == len(model_shape) and all(
        m is None or m == d for d, m in zip(data_shape, model_shape, strict=True)
    )


def _load_hint(model_shape: tuple[Any, ...], loaded_here: bool = False) -> str:
    height, width, channels = model_shape
    if loaded_here:  # only colours can be left: sizes are always adapted then
        return (
            f"give it {_COLOURS.get(channels, f'{channels}-channel')} images (an image "
            "folder is read so; convert arrays first)"
        )
    options = []
    if height is not None and width is not None:
        options.append(f"image_size=({height}, {width})")
    if channels in _COLOR_MODE:
        options.append(f"color_mode={_COLOR_MODE[channels]!r}")
    return (
        f"load the images to fit with zoo.data.load(source, {', '.join(options)}), or pass "
        "the source itself (a folder, 'digits', arrays) to fine_tune, which loads it to fit"
    )


def plan(
    data_shape: tuple[Any, ...],
    model_shape: tuple[Any, ...],
    *,
    permissive: bool,
    factor: float = 1.0,
) -> Adaptation:
    """How data of `data_shape` is made to fit a network taking `model_shape`.

    Args:
        data_shape: one example's shape in the pipelines (without the batch axis).
        model_shape: the network's input shape (without the batch axis; None: any).
        permissive: adapt any image mismatch that can be (a source fine_tune loaded
            itself, or a size chosen for a backbone); otherwise only lossless ones
            (grey to RGB, upsampling).
        factor: a pixel factor to apply as well (1: none).

    Returns:
        An :class:`Adaptation` (falsy when the data fits as it is).

    Raises:
        ValueError: naming both shapes and the fix, when the data cannot be made to fit.

    Example:
        >>> plan((8, 8, 1), (32, 32, 3), permissive=False)
        Adaptation(size=(32, 32), to_rgb=True, factor=1.0)
    """
    data_shape, model_shape = tuple(data_shape), tuple(model_shape)
    if _fits(data_shape, model_shape):
        return Adaptation(factor=factor)
    if len(data_shape) != 3 or len(model_shape) != 3:
        raise v.ArgumentValueError(
            f"`data` must have examples of the shape the model takes, {model_shape} "
            f"(without the batch axis): the model was built or trained for other data. "
            f"Received: data with examples of shape {data_shape}"
        )
    (height, width, channels), (model_height, model_width, model_channels) = (
        data_shape,
        model_shape,
    )
    problems = []
    to_rgb = False
    if model_channels is not None and channels != model_channels:
        if channels == 1 and model_channels == 3:
            to_rgb = True
        else:
            problems.append(
                f"{_COLOURS.get(channels, f'{channels}-channel')} images for a "
                f"{_COLOURS.get(model_channels, f'{model_channels}-channel')} model"
            )
    target = (model_height or height, model_width or width)
    size = None if target == (height, width) else target
    if size is not None and not permissive and (target[0] < height or target[1] < width):
        problems.append("images larger than the model takes (shrinking them loses detail)")
    if problems:
        scope = (
            "fine_tune adapts a loaded Data only where nothing is lost (grey to RGB, "
            "upsampling), not "
            if not permissive
            else "fine_tune cannot adapt "
        )
        raise v.ArgumentValueError(
            f"`data` must hold images the model takes, {describe_shape(model_shape)} "
            f"(input shape {model_shape}); {scope}{' or '.join(problems)}: "
            f"{_load_hint(model_shape, permissive)}. Received: data with images of shape "
            f"{data_shape}"
        )
    return Adaptation(size=size, to_rgb=to_rgb, factor=factor)


def describe(adaptation: Adaptation, data_shape: tuple[Any, ...]) -> str:
    """What `adaptation` does to images of `data_shape`, as a clause for a printed line."""
    done = []
    if adaptation.size is not None:
        done.append(f"resized from {data_shape[0]}x{data_shape[1]} to {_size(adaptation.size)}")
    if adaptation.to_rgb:
        done.append("turned from grey into RGB")
    if adaptation.factor != 1.0:
        done.append(f"rescaled by {adaptation.factor:g} to the model's pixel scale")
    return " and ".join(done)


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# ---------------------------------------------------------------- backbone sizes


def check_image_size(image_size: Any, minimum: int | None, backbone: str | None) -> Any:
    """`image_size` as (height, width) or None, checked against a backbone's minimum."""
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    size = v.check_int_sequence("image_size", image_size, length=2)
    if minimum is not None and min(size) < minimum:
        raise v.invalid(
            "image_size",
            f"at least {minimum}x{minimum} for backbone {backbone!r} (its smallest input)",
            image_size,
        )
    return size


def backbone_size(
    data_shape: tuple[Any, ...], backbone: str, minimum: int, image_size: Any
) -> tuple[tuple[int, int], str]:
    """The (height, width) to build a backbone at for the data, and why (for a message).

    The data's own resolution when the backbone takes it, its smallest input when the
    images are smaller, `image_size` when given.

    Raises:
        ValueError: for data that are not grey or RGB images.
    """
    if len(data_shape) != 3 or data_shape[-1] not in (1, 3):
        raise v.ArgumentValueError(
            f"`data` must hold RGB (or grey) images, (height, width, 3 or 1), for backbone "
            f"{backbone!r}. Received: data with examples of shape {tuple(data_shape)}"
        )
    if image_size is not None:
        return tuple(image_size), f"image_size={tuple(image_size)}"
    height, width = data_shape[:2]
    size = (max(height, minimum), max(width, minimum))
    if size == (height, width):
        return size, "the data's resolution; image_size= chooses another"
    return size, (
        f"its smallest input, the data's images being {height}x{width}; image_size= chooses another"
    )


# ---------------------------------------------------------------- image folders


def peek_folder(source: Any) -> tuple[set[tuple[int, int]], set[int]] | None:
    """The sizes and channel counts of an image folder's files (headers only), or None.

    None when `source` is not a folder holding image files (text folders, names,
    arrays). Unreadable files are left to ``zoo.data.load`` to report.
    """
    from zoo.data.bundled import BUNDLED
    from zoo.data.images import IMAGE_EXTENSIONS

    if not isinstance(source, (str, Path)) or source in BUNDLED or not Path(source).is_dir():
        return None
    files = [
        p
        for p in Path(source).rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    if not files:
        return None
    sizes, channels = set(), set()
    for path in files:
        try:
            with open_image(path, decode=False) as image:  # the header only
                sizes.add((image.height, image.width))
                channels.add(1 if image.mode in GREY_MODES else 3)
        except UnusableImageError:
            continue
    return sizes, channels


def folder_options(
    peeked: tuple[set[tuple[int, int]], set[int]], model_shape: tuple[Any, ...]
) -> tuple[dict[str, Any], str | None]:
    """``zoo.data.load`` options that read an image folder at a model's size and colours.

    Returns:
        ``(options, clause)``: the clause says what changes (None when nothing does).
    """
    sizes, channels = peeked
    height, width, model_channels = model_shape
    options: dict[str, Any] = {}
    done = []
    if model_channels in _COLOR_MODE:
        options["color_mode"] = _COLOR_MODE[model_channels]
        if channels != {model_channels}:
            found = "/".join(_COLOURS[c] for c in sorted(channels))
            done.append(f"read as {_COLOURS[model_channels]} (they are {found})")
    if height is not None and width is not None and sizes != {(height, width)}:
        options["image_size"] = (height, width)
        found = ", ".join(_size(s) for s in sorted(sizes)[:3]) + (" ..." if len(sizes) > 3 else "")
        done.append(f"resized to {_size((height, width))} (they are {found})")
    return options, " and ".join(done) or None
