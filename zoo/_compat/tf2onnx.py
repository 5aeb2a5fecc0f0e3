"""tf2onnx (seen in 1.17): ops it cannot convert yet."""

from __future__ import annotations

import numpy as np

_TF2ONNX_PATCHED: list[bool] = []


def register_erfc() -> None:
    """Teach tf2onnx TensorFlow's ``Erfc`` op (the exact GELU): ``1 - Erf(x)``.

    Works around (tf2onnx 1.17, TF 2.21): TF's exact GELU lowers to ``Erfc``, which
    tf2onnx has no handler for; it copies the op into the ONNX graph unchanged and ONNX
    Runtime rejects it ("No Op registered for Erfc"). Registered once per process, and
    not at all where tf2onnx has its own handler.
    Upstream: https://github.com/onnx/tensorflow-onnx/pull/2463 (reported in
    https://github.com/onnx/tensorflow-onnx/issues/2347).
    """
    if _TF2ONNX_PATCHED:
        return
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    opsets = tf_op.get_opsets().get("", [])
    if any("Erfc" in handlers for handlers in opsets):
        _TF2ONNX_PATCHED.append(True)
        return

    class Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            one = ctx.make_const(utils.make_name("erfc_one"), np.array(1, dtype=dtype))
            minus = ctx.insert_new_node_on_output(
                "Sub",
                node.output[0],
                name=utils.make_name(node.name),
                inputs=[one.output[0], node.output[0]],
            )
            ctx.copy_shape(node.output[0], minus.output[0])

    tf_op("Erfc")(Erfc)
    _TF2ONNX_PATCHED.append(True)
