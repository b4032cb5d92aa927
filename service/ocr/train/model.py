"""The small CTC line recognizer: all-convolutional, ~1.4 M parameters, static-int8 friendly.

Input ``(N, 1, 32, W)`` with paper = 1; output ``(W/4, N, classes)`` log-probabilities. Height is
reduced late (32 → 8 by the first two stages, 8 → 1 only in the last ones) so the marks above and
below a letter — the hook above vs. the acute, the dot below — still have rows of their own when
the letter is classified.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int, pool: tuple[int, int] | None) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    if pool is not None:
        layers.append(nn.MaxPool2d(pool, pool))
    return layers


class TinyCtc(nn.Module):
    """Conv stages (32×W → 1×W/4) and a 1-D convolutional head over the sequence."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_block(1, 32, (2, 2)), *_block(32, 64, (2, 2)),      # 8 × W/4
            *_block(64, 128, None), *_block(128, 128, (2, 1)),    # 4 × W/4
            *_block(128, 192, None), *_block(192, 192, (2, 1)),   # 2 × W/4
            nn.Conv2d(192, 256, (2, 1), bias=False), nn.BatchNorm2d(256), nn.ReLU(),  # 1 × W/4
        )
        self.head = nn.Sequential(
            nn.Conv1d(256, 256, 3, padding=1), nn.ReLU(), nn.Conv1d(256, 256, 3, padding=1), nn.ReLU(),
            nn.Conv1d(256, classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(T, N, classes)``."""
        f = self.features(x).squeeze(2)  # N, 256, T
        return self.head(f).permute(2, 0, 1).log_softmax(-1)
