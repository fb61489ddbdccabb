"""Closed-set specialist: a decoder conditioned on a learned class-embedding table, no LLM.

The baseline of the generalist-vs-specialist benchmarks: the same decoder, data and schedule, but each
class's condition is a row of ``nn.Embedding(num_classes, condition_dims)`` looked up by name in a fixed
class list, so it can only name classes of that list (rows of classes never seen in training stay at
their random init).
"""
from typing import List, Sequence

import torch
from torch import nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample

from .decoder_only import DecoderOnlyModel


@MODELS.register_module()
class ClosedSetSpecialist(DecoderOnlyModel):
    """``decoder`` (any BaseTaskDecoder config) + a class-embedding table over ``classes``.

    Args:
        classes: the closed class list (names of the prompts must be in it).
        condition_dims: width of the table rows (the decoder's condition input).
        task: the task whose samples it trains on / predicts (others are ignored).
        names_field: the data-sample field with each sample's group names (``keypoint_names`` for [POSE]).
    """

    def __init__(self, decoder: dict, classes: Sequence[str], condition_dims: int = 128, routing_token: str = '[DET]',
                 task: str = 'det', names_field: str = 'class_names', data_preprocessor=None, init_cfg=None):
        if 'name_embedding' in decoder:  # a class table has no name tokens: no (never-trained) name term
            decoder = dict(decoder, name_embedding=False)
        super().__init__(decoder, condition_dims, 1, routing_token, task, data_preprocessor, init_cfg)
        self.names_field = names_field
        self.classes = list(classes)
        self.index = {n: i for i, n in enumerate(self.classes)}
        self.table = nn.Embedding(len(self.classes), condition_dims)
        nn.init.normal_(self.table.weight, std=1.0)

    def conditions(self, samples: List[VisionLLMDataSample]) -> TaskConditions:
        per_sample = [list(s.get(self.names_field)) for s in samples]
        names = [n for ns in per_sample for n in ns]
        unknown = [n for n in names if n not in self.index]
        if unknown:
            raise ValueError(f'closed-set specialist cannot name {sorted(set(unknown))}; it knows {len(self.classes)} '
                             'classes')
        idx = torch.tensor([self.index[n] for n in names], device=self.table.weight.device)
        b = torch.tensor([i for i, ns in enumerate(per_sample) for _ in ns], device=idx.device)
        return TaskConditions(self.table(idx)[:, None], b, names, [self.routing_token] * len(names))
