"""torch networks of :mod:`atb.ml.adapters.torch_nets` (imported only once torch is known present).

Every network maps a window ``x`` float32 ``(batch, seq_len, n_features)`` (oldest row first, the
row being predicted last) to ``(batch, n_out)``: class logits, or a standardised regression value.
Input standardisation (training-row mean/scale) and the regression target scale live in buffers,
so an ONNX export carries them.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["InferenceHead", "LSTMNet", "TransformerNet"]


class _Scaled(nn.Module):
    """Base: buffers for input standardisation and the regression target scale."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("x_mean", torch.zeros(n_features))
        self.register_buffer("x_scale", torch.ones(n_features))
        self.register_buffer("y_mean", torch.zeros(1))
        self.register_buffer("y_scale", torch.ones(1))

    x_mean: torch.Tensor
    x_scale: torch.Tensor
    y_mean: torch.Tensor
    y_scale: torch.Tensor

    def scale_input(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.x_mean) / self.x_scale


class LSTMNet(_Scaled):
    """LSTM over the window; the last step's hidden state feeds a linear head (Hochreiter 1997)."""

    def __init__(self, n_features: int, n_out: int, *, hidden: int, layers: int, dropout: float) -> None:
        super().__init__(n_features)
        self.lstm = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.scale_input(x))
        return self.head(h[:, -1, :])


class TransformerNet(_Scaled):
    """Transformer encoder (Vaswani et al. 2017) with learned positions; head on the last row."""

    def __init__(self, n_features: int, n_out: int, *, seq_len: int, d_model: int, heads: int,
                 ff: int, layers: int, dropout: float) -> None:
        super().__init__(n_features)
        self.embed = nn.Linear(n_features, d_model)
        self.position = nn.Parameter(torch.zeros(1, seq_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(self.embed(self.scale_input(x)) + self.position)
        return self.head(z[:, -1, :])


class InferenceHead(nn.Module):
    """Wraps a network for inference: softmax probabilities, or the de-standardised value ``(batch,)``."""

    def __init__(self, net: _Scaled, classification: bool) -> None:
        super().__init__()
        self.net = net
        self.classification = classification

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if self.classification:
            return torch.softmax(out, dim=1)
        return out[:, 0] * self.net.y_scale + self.net.y_mean
