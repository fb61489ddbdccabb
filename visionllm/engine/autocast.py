"""bf16 autocast training on any device: mmengine's ``AmpOptimWrapper`` refuses CPUs."""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper

from visionllm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` (bf16 by default) on the model's device,
    CPU included; no loss scaling (bf16 keeps fp32's exponent range). ``tools/train.py --amp`` picks it when
    no GPU is present (mmengine's ``AmpOptimWrapper`` otherwise).

    Args:
        dtype: autocast dtype, ``'bfloat16'`` or ``'float16'`` (float16 on CUDA wants ``AmpOptimWrapper``'s
            loss scaling).
    """

    def __init__(self, *args, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        param = next(model.parameters(), None)
        device = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type=device, dtype=self.cast_dtype):
            yield
