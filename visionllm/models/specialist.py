"""Closed-set specialist: a decoder conditioned on a learned class-embedding table, no LLM.

The baseline of the generalist-vs-specialist benchmark: the same decoder, data and schedule, but each
class's condition is a row of ``nn.Embedding(num_classes, condition_dims)`` looked up by name in a fixed
class list, so it can only name classes of that list (rows of classes never seen in training stay at
their random init).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample


@MODELS.register_module()
class ClosedSetSpecialist(BaseModel):
    """``decoder`` (any BaseTaskDecoder config) + a class-embedding table over ``classes``.

    Args:
        classes: the closed class list (names of the prompts must be in it).
        condition_dims: width of the table rows (the decoder's condition input).
        task: the task whose samples it trains on / predicts (others are ignored).
    """

    def __init__(self, decoder: dict, classes: Sequence[str], condition_dims: int = 128, routing_token: str = '[DET]',
                 task: str = 'det', data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        self.classes = list(classes)
        self.index = {n: i for i, n in enumerate(self.classes)}
        self.table = nn.Embedding(len(self.classes), condition_dims)
        nn.init.normal_(self.table.weight, std=1.0)
        self.decoder = MODELS.build(decoder, default_args=dict(condition_dims=condition_dims,
                                                                routing_tokens=[routing_token], num_queries=1))
        self.routing_token, self.task = routing_token, task

    def _conditions(self, samples: List[VisionLLMDataSample]) -> TaskConditions:
        names = [n for s in samples for n in s.class_names]
        unknown = [n for n in names if n not in self.index]
        if unknown:
            raise ValueError(f'closed-set specialist cannot name {sorted(set(unknown))}; it knows {len(self.classes)} '
                             'classes')
        idx = torch.tensor([self.index[n] for n in names], device=self.table.weight.device)
        b = torch.tensor([i for i, s in enumerate(samples) for _ in s.class_names], device=idx.device)
        return TaskConditions(self.table(idx)[:, None], b, names, [self.routing_token] * len(names))

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        keep = [i for i, s in enumerate(data_samples) if s.get('task') == self.task]
        samples = [data_samples[i] for i in keep]
        dec_in = dict(images=inputs['images'][keep] if keep else None)
        if mode == 'loss':
            if not samples:
                return dict(loss=self.table.weight.sum() * 0.0)
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
