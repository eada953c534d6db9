"""The network of the transformer backend: encoder, mean pooling, one multi-label output layer.

It imports torch, so only :mod:`lo_signals.scorers.transformer` imports it, on first use.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MultiLabelEncoder"]


class MultiLabelEncoder(nn.Module):
    """A BERT-family encoder, mean pooling, dropout and one linear layer with ``n_outputs`` logits.

    Args:
        encoder: A ``transformers`` encoder model (``AutoModel``).
        n_outputs: Evidence labels plus aspiration labels.
        dropout: Dropout before the output layer (training only).
    """

    def __init__(self, encoder: nn.Module, n_outputs: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, n_outputs)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        # Pool in fp32 even when the encoder runs in bf16/fp16: sums over long
        # sequences lose too much in 8 mantissa bits.
        hidden = out.last_hidden_state.float()
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        # Mean pooling: what all-MiniLM-L6-v2 was trained with.
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
        # The output layer is kept in fp32 in every precision (see TransformerScorer._place).
        return self.classifier(self.dropout(pooled))
