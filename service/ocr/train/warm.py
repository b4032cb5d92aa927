"""Warm start: a :class:`FastCtc` whose weights come from an exported ONNX model (``--init``).

The export folds every batch norm into the convolution before it, so the ONNX file holds one
weight and one bias per convolution. Each is put back: the folded weight into the convolution,
and the batch norm after it set so that it passes the convolution's output through plus the folded
bias, both in eval mode (exactly) and in train mode on batches like the calibration batch
(gamma = the batch's standard deviation, beta = its mean + the bias). Training then continues from
the shipped model instead of from scratch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from service.ocr.train.model import FastCtc


def _convs_in_order(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Every convolution of the model in forward order, with the batch norm that follows it."""
    modules = list(model.modules())
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d | None]] = []
    for i, m in enumerate(modules):
        if isinstance(m, nn.Conv2d):
            nxt = modules[i + 1] if i + 1 < len(modules) else None
            pairs.append((m, nxt if isinstance(nxt, nn.BatchNorm2d) else None))
    return pairs


def _onnx_convs(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of every Conv node of the ONNX graph, in graph order."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type == "Conv":
            w = init[node.input[1]]
            b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            out.append((w, b))
    return out


def from_onnx(path: Path, calibration: torch.Tensor) -> tuple[FastCtc, list[str]]:
    """The model exported to ``path`` (and its vocabulary), ready to train on batches like ``calibration``."""
    chars = json.loads(path.with_suffix(".vocab.json").read_text(encoding="utf-8"))["chars"]
    model = FastCtc(len(chars))
    pairs, weights = _convs_in_order(model), _onnx_convs(path)
    if len(pairs) != len(weights) or any(c.weight.shape != w.shape for (c, _), (w, _) in zip(pairs, weights,
                                                                                             strict=False)):
        raise ValueError(f"{path} is not a FastCtc export of this architecture")
    stats: dict[int, torch.Tensor] = {}
    hooks = []
    with torch.no_grad():
        for i, ((conv, bn), (w, b)) in enumerate(zip(pairs, weights, strict=True)):
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            if bn is None:
                assert conv.bias is not None
                conv.bias.copy_(torch.from_numpy(np.array(b)))
                continue
            bn.running_mean.zero_()  # type: ignore[operator]
            bn.running_var.fill_(1.0)  # type: ignore[operator]
            bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
            bn.bias.copy_(torch.from_numpy(np.array(b)))
            hooks.append(conv.register_forward_hook(lambda _m, _x, y, i=i: stats.__setitem__(i, y.detach())))
        model.eval()
        model(calibration)
        for h in hooks:
            h.remove()
        for i, (_conv, bn) in enumerate(pairs):
            if bn is None:
                continue
            y = stats[i]
            mean, var = y.mean(dim=(0, 2, 3)), y.var(dim=(0, 2, 3), unbiased=False)
            bn.running_mean.copy_(mean)  # type: ignore[operator]
            bn.running_var.copy_(var)  # type: ignore[operator]
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.add_(mean)
    return model, chars
