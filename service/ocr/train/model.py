"""The small CTC line recognizer: convolutions only, ~0.66 M parameters, cheap per input column.

Input ``(N, 1, 32, W)`` with paper = 1; output ``(W/4, N, classes)`` log-probabilities.

* Two strided 3×3 stages take 32 × W to 8 × W/4; depthwise-separable blocks work at that
  resolution, so the marks above and below a letter — the hook above vs. the acute, the dot
  below — still have rows of their own when the letter is classified. Only then does one
  8 × 1 convolution fold the height.
* The sequence head is depthwise (1 × 5, dilated 1, 2, 4) + pointwise residual blocks over the
  W/4 steps: a receptive field of ~120 px (several letters) at a small cost per step.
* ReLU and batch norm only (folded on export), so static int8 quantizes every operator.

About 0.27 M multiply-adds per input column (the 1.3 M of the first trained model cost as much per
column as AsterNet); the previous design kept 128–192 channels of full 3 × 3 convolutions at 8 and
4 rows.
"""

from __future__ import annotations

import torch
from torch import nn


def _cbr(cin: int, cout: int, kernel: tuple[int, int], stride: int = 1, groups: int = 1,
         dilation: int = 1) -> nn.Sequential:
    pad = ((kernel[0] - 1) // 2 if kernel[0] % 2 else 0, (kernel[1] - 1) // 2 * dilation)
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, pad, dilation=(1, dilation), groups=groups,
                                   bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class _Separable(nn.Module):
    """Depthwise 3×3 then pointwise; residual when the width stays."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.dw = _cbr(cin, cin, (3, 3), groups=cin)
        self.pw = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = cin == cout
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output."""
        y = self.pw(self.dw(x))
        return self.act(y + x if self.residual else y)


class _Sequence(nn.Module):
    """Depthwise 1×5 (dilated) over the steps, pointwise across channels, residual."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.dw = _cbr(channels, channels, (1, 5), groups=channels, dilation=dilation)
        self.pw = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output."""
        return self.act(self.pw(self.dw(x)) + x)


class FastCtc(nn.Module):
    """Conv stages (32×W → 1×W/4) and a dilated separable head over the sequence."""

    def __init__(self, classes: int, width: int = 256) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _cbr(1, 32, (3, 3), stride=2), _cbr(32, 64, (3, 3), stride=2),  # 8 × W/4
            _Separable(64, 96), _Separable(96, 96), _Separable(96, 128), _Separable(128, 128),
            _cbr(128, width, (8, 1)),  # 1 × W/4
        )
        self.sequence = nn.Sequential(*(_Sequence(width, d) for d in (1, 2, 4, 1)))
        self.out = nn.Conv2d(width, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(T, N, classes)``."""
        return self.out(self.sequence(self.features(x))).squeeze(2).permute(2, 0, 1).log_softmax(-1)
