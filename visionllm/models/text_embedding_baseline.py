"""Baseline without an LLM: a decoder conditioned on learned embeddings of the prompt's tokens.

The reference for the generation / editing numbers ("does the LLM help?"): the same decoder, data and
schedule, but the condition is the sequence of the instruction's token embeddings (+ positions) from a
plain ``nn.Embedding`` over the same tokenizer, instead of super-link query states.
"""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample

from .mllm.tokenizer import build_tokenizer

TEXT_FIELDS = dict(gen='text', edit='instruction')


@MODELS.register_module()
class TextEmbeddingBaseline(BaseModel):
    """``decoder`` conditioned on ``[B, max_tokens, condition_dims]`` prompt-token embeddings.

    Args:
        tokenizer: kwargs of ``build_tokenizer`` (the generalist's tokenizer, for the same text units).
        task: ``gen`` or ``edit`` (samples of other tasks are ignored); the prompt text is the sample's
            ``text`` / ``instruction``.
    """

    def __init__(self, decoder: dict, tokenizer: dict, task: str = 'gen', condition_dims: int = 128,
                 max_tokens: int = 64, routing_token: str = '[GEN]', data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        self.tokenizer = build_tokenizer(**tokenizer)
        self.token_embed = nn.Embedding(len(self.tokenizer), condition_dims)
        self.pos_embed = nn.Parameter(torch.randn(max_tokens, condition_dims) * 0.02)
        self.decoder = MODELS.build(decoder, default_args=dict(condition_dims=condition_dims,
                                                                routing_tokens=[routing_token], num_queries=max_tokens))
        self.task, self.max_tokens, self.routing_token = task, max_tokens, routing_token

    def _conditions(self, samples: List[VisionLLMDataSample]) -> TaskConditions:
        dev = self.pos_embed.device
        ids = torch.full((len(samples), self.max_tokens), self.tokenizer.pad_token_id, dtype=torch.long, device=dev)
        for b, s in enumerate(samples):
            t = self.tokenizer(s.get(TEXT_FIELDS[self.task]), add_special_tokens=False).input_ids[:self.max_tokens]
            ids[b, :len(t)] = torch.tensor(t, device=dev)
        valid = (ids != self.tokenizer.pad_token_id).float()[..., None]
        emb = (self.token_embed(ids) + self.pos_embed) * valid
        return TaskConditions(emb, torch.arange(len(samples), device=dev), [''] * len(samples),
                              [self.routing_token] * len(samples))

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        keep = [i for i, s in enumerate(data_samples) if s.get('task') == self.task]
        samples = [data_samples[i] for i in keep]
        dec_in = dict(images=inputs['images'][keep] if keep else None,
                      image_mean=self.data_preprocessor.image_mean, image_std=self.data_preprocessor.image_std)
        if mode == 'loss':
            if not samples:
                return dict(loss=self.pos_embed.sum() * 0.0)
            losses = self.decoder.loss(dec_in, self._conditions(samples), samples)
            return {f'{self.task}.{k}': v for k, v in losses.items()}
        if mode == 'predict':
            if samples:
                with torch.no_grad():
                    self.decoder.predict(dec_in, self._conditions(samples), samples)
            return data_samples
        raise ValueError(f'mode {mode!r} is not supported by {type(self).__name__}')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        if not data.get('data_samples'):
            return {}
        return super().train_step(data, optim_wrapper)
