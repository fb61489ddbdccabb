"""Baseline without an LLM: a decoder conditioned on learned embeddings of the prompt's tokens.

The reference for the generation / editing numbers ("does the LLM help?"): the same decoder, data and
schedule, but the condition is the sequence of the instruction's token embeddings (+ positions) from a
plain ``nn.Embedding`` over the same tokenizer, instead of super-link query states.
"""
from typing import List

import torch
from torch import nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample

from .decoder_only import DecoderOnlyModel
from .mllm.tokenizer import build_tokenizer

TEXT_FIELDS = dict(gen='text', edit='instruction')


@MODELS.register_module()
class TextEmbeddingBaseline(DecoderOnlyModel):
    """``decoder`` conditioned on ``[B, max_tokens, condition_dims]`` prompt-token embeddings.

    Args:
        tokenizer: kwargs of ``build_tokenizer`` (the generalist's tokenizer, for the same text units).
        task: ``gen`` or ``edit``; the prompt text is the sample's ``text`` / ``instruction``.
    """

    def __init__(self, decoder: dict, tokenizer: dict, task: str = 'gen', condition_dims: int = 128,
                 max_tokens: int = 64, routing_token: str = '[GEN]', data_preprocessor=None, init_cfg=None):
        super().__init__(decoder, condition_dims, max_tokens, routing_token, task, data_preprocessor, init_cfg)
        self.tokenizer = build_tokenizer(**tokenizer)
        self.token_embed = nn.Embedding(len(self.tokenizer), condition_dims)
        self.pos_embed = nn.Parameter(torch.randn(max_tokens, condition_dims) * 0.02)
        self.max_tokens = max_tokens

    def conditions(self, samples: List[VisionLLMDataSample]) -> TaskConditions:
        dev = self.pos_embed.device
        ids = torch.full((len(samples), self.max_tokens), self.tokenizer.pad_token_id, dtype=torch.long, device=dev)
        for b, s in enumerate(samples):
            t = self.tokenizer(s.get(TEXT_FIELDS[self.task]), add_special_tokens=False).input_ids[:self.max_tokens]
            ids[b, :len(t)] = torch.tensor(t, device=dev)
        valid = (ids != self.tokenizer.pad_token_id).float()[..., None]
        emb = (self.token_embed(ids) + self.pos_embed) * valid
        return TaskConditions(emb, torch.arange(len(samples), device=dev), [''] * len(samples),
                              [self.routing_token] * len(samples))
