"""Base of the no-LLM baselines: one specialist decoder conditioned by something other than the LLM."""
from abc import abstractmethod
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel
from torch import Tensor

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample


class SkipEmptyBatches:
    """A ``BaseModel`` mixin: a batch left with no samples (every one skipped as bad) is no train step."""

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        if not data.get('data_samples'):
            return {}
        return super().train_step(data, optim_wrapper)


class DecoderOnlyModel(SkipEmptyBatches, BaseModel):
    """Runs ``decoder`` on the samples of ``task`` with conditions from :meth:`conditions` (subclasses).

    Args:
        decoder: decoder config (gets ``condition_dims``, ``routing_tokens``, ``num_queries``).
        task: samples of this task train / predict; others pass through untouched.
    """

    def __init__(self, decoder: dict, condition_dims: int, num_queries: int, routing_token: str, task: str,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        self.decoder = MODELS.build(decoder, default_args=dict(
            condition_dims=condition_dims, routing_tokens=[routing_token], num_queries=num_queries))
        self.routing_token, self.task = routing_token, task

    @abstractmethod
    def conditions(self, samples: List[VisionLLMDataSample]) -> TaskConditions:
        """Conditions of the samples' groups (``batch_idx`` indexing ``samples``)."""

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        keep = [i for i, s in enumerate(data_samples) if s.get('task') == self.task]
        samples = [data_samples[i] for i in keep]
        dec_in = dict(images=inputs['images'][keep] if keep else None,
                      image_mean=self.data_preprocessor.image_mean, image_std=self.data_preprocessor.image_std)
        if mode == 'loss':
            if not samples:
                return dict(loss=sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0)
            losses = self.decoder.loss(dec_in, self.conditions(samples), samples)
            return {f'{self.task}.{k}': v for k, v in losses.items()}
        if mode == 'predict':
            if samples:
                with torch.no_grad():
                    self.decoder.predict(dec_in, self.conditions(samples), samples)
            return data_samples
        raise ValueError(f'mode {mode!r} is not supported by {type(self).__name__}')
