"""The document model in PyTorch: one encoder pass, a sentence head and a token head.

``DocumentModel`` wraps a ``BertForSequenceClassification``. For every position of a window
it returns

- ``logits`` ``(batch, tokens, labels)``: the encoder's hidden state through **the same pooler
  and classifier** that ``BertForSequenceClassification`` applies to position 0. Read at a
  sentence's ``[CLS]`` marker they are that sentence's label logits; at position 0 of a
  lone sentence they are exactly what the plain sequence classifier (and
  ``transformers.pipeline``) computes, so the saved folder stays a standard one;
- ``tags`` ``(batch, tokens, tags)``: BIO tags of sources and cues (``spans.TAGS``) from a
  linear token head on the same hidden states. The head is saved beside the encoder
  (``span_head.safetensors``), so the encoder folder loads without unexpected weights.

Applying the pooler at every position costs one 384x384 product per token, about 1/70
of a MiniLM layer stack; it keeps the exported graph free of a marker input.
"""

from __future__ import annotations

import torch
from torch import nn

from .spans import TAGS


class DocumentModel(nn.Module):
    def __init__(self, encoder, span_head: nn.Linear | None = None, with_spans: bool = True,
                 marker_id: int | None = None):
        super().__init__()
        # the [CLS] id that opens each sentence of a window (the tokenizer's cls_token_id)
        self.marker_id = marker_id
        base = getattr(encoder, encoder.base_model_prefix, None)
        if base is None or getattr(base, "pooler", None) is None or not hasattr(encoder, "classifier"):
            raise ValueError("the document model needs a BERT-style sequence classifier with a pooler "
                             f"(got {type(encoder).__name__})")
        self.encoder = encoder
        self.config = encoder.config
        hidden = encoder.config.hidden_size
        self.span_head = span_head if span_head is not None else (nn.Linear(hidden, len(TAGS)) if with_spans else None)
        self.span_dropout = nn.Dropout(encoder.config.hidden_dropout_prob)

    @property
    def base(self):
        return getattr(self.encoder, self.encoder.base_model_prefix)

    def window_mask(self, input_ids, attention_mask):
        """The attention mask of a window, ``(batch, 1, tokens, tokens)``, additive float.

        Every word piece attends to the whole window (its context), but a sentence's marker
        attends only to its own sentence, so each marker summarises its sentence (read in
        context) as ``[CLS]`` does at position 0, instead of all markers summarising the same
        window alike. For a window of one sentence this is the plain padding mask, so a lone
        sentence is exactly the standard input.
        """
        is_marker = input_ids == self.marker_id
        sentence = torch.cumsum(is_marker.long(), dim=1)
        keys = attention_mask.bool().unsqueeze(1)
        own = sentence.unsqueeze(2) == sentence.unsqueeze(1)
        allowed = keys & (own | ~is_marker.unsqueeze(2))
        blocked = torch.zeros(allowed.shape, dtype=torch.float32, device=input_ids.device)
        return blocked.masked_fill(~allowed, torch.finfo(torch.float32).min).unsqueeze(1)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        base = self.base
        mask = self.window_mask(input_ids, attention_mask) if self.marker_id is not None else attention_mask
        hidden = base(input_ids=input_ids, attention_mask=mask, token_type_ids=token_type_ids).last_hidden_state
        pooled = base.pooler.activation(base.pooler.dense(hidden))
        logits = self.encoder.classifier(self.encoder.dropout(pooled))
        if self.span_head is None:
            return logits, hidden.new_zeros(hidden.shape[:2] + (len(TAGS),))
        return logits, self.span_head(self.span_dropout(hidden))

    def save_span_head(self, path: str) -> None:
        from safetensors.torch import save_file

        if self.span_head is not None:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.span_head.state_dict().items()}, path)

    @staticmethod
    def load_span_head(path: str, hidden: int) -> nn.Linear:
        from safetensors.torch import load_file

        head = nn.Linear(hidden, len(TAGS))
        head.load_state_dict(load_file(path))
        return head


class TorchRunner:
    """Runs a ``DocumentModel`` on a padded numpy batch: ``(logits, tags)`` as float32 numpy."""

    def __init__(self, model: DocumentModel):
        self.model = model.eval()

    def __call__(self, batch: dict):
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            tensors = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
            logits, tags = self.model(**tensors)
            return logits.float().cpu().numpy(), tags.float().cpu().numpy()
