"""Specialists run one after another on the same batch (e.g. closed-set detection, then pose on its boxes)."""
from typing import Dict, Optional

from mmengine.model import BaseModel
from torch import Tensor, nn

from visionllm.registry import MODELS


@MODELS.register_module()
class SpecialistChain(BaseModel):
    """No-LLM baseline of a multi-decoder task: each member is a :class:`DecoderOnlyModel` config.

    Members run in dict order (``predict``: a later one reads the ``pred_instances`` an earlier one wrote,
    as the generalist's decoders do); losses are summed, keys ``{member}.{loss name}``.
    """

    def __init__(self, members: Dict[str, dict], data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        if not members:
            raise ValueError('SpecialistChain needs at least one member')
        # members normalise as the chain does (the decoders read image_mean / image_std)
        self.members = nn.ModuleDict({k: MODELS.build(v, default_args=dict(data_preprocessor=data_preprocessor))
                                      for k, v in members.items()})

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            losses: Dict[str, Tensor] = {}
            for name, m in self.members.items():
                out = m(inputs, data_samples, 'loss')
                losses.update({f'{name}.{k.split(".", 1)[-1]}': v for k, v in out.items()})
            return losses
        if mode == 'predict':  # each member predicts under no_grad
            for m in self.members.values():
                data_samples = m(inputs, data_samples, 'predict')
            return data_samples
        raise ValueError(f'mode {mode!r} is not supported by {type(self).__name__}')
