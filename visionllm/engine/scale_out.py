"""Distributed engines through mmengine: DDP (torchrun), FSDP and DeepSpeed ZeRO (FlexibleRunner).

CPU-only torch cannot use mmengine's ``launcher='pytorch'`` as is (it calls ``torch.cuda.set_device``):
the process group is initialised here with gloo before the Runner is built, and DDP wraps without
device ids. On GPUs nccl is used and mmengine's own initialisation applies.
"""
import copy
import json
import os
import os.path as osp
from typing import Optional

from visionllm.utils.errors import ConfigError

DEEPSPEED_PRESETS = {
    'zero2': dict(zero_optimization=dict(stage=2, overlap_comm=False, contiguous_gradients=True)),
    'zero3': dict(zero_optimization=dict(stage=3, overlap_comm=False, contiguous_gradients=True,
                                         stage3_gather_16bit_weights_on_model_save=True)),
}


def touch_decoders_when_distributed(cfg) -> None:
    """Distributed generalist with decoders: ``model.touch_unused_decoders=True`` unless the config sets it.

    A rank whose batch uses no sample of a decoder family would leave that decoder out of its graph, and
    DDP / ZeRO would wait for its gradients ("Expected to have finished reduction ..."). The zero loss over
    the unused decoders keeps every rank's graph complete; single-process training is unchanged.
    """
    model = cfg.get('model') or {}
    if cfg.get('launcher', 'none') == 'none' or model.get('type') not in ('VisionLLM', 'visionllm.VisionLLM'):
        return
    if model.get('decoders') and 'touch_unused_decoders' not in model:
        model['touch_unused_decoders'] = True


def init_cpu_distributed(cfg) -> None:
    """With ``launcher='pytorch'`` and no CUDA: init a gloo process group from torchrun's env vars."""
    import torch
    import torch.distributed as dist
    if cfg.launcher != 'pytorch' or torch.cuda.is_available():
        return
    if not dist.is_initialized():  # (a second runner in the same process reuses the group)
        dist.init_process_group('gloo')
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if cfg.get('runner_type', 'Runner') == 'Runner':
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     find_unused_parameters=cfg.get('find_unused_parameters', False))


def fill_deepspeed_config(ds: dict, cfg, amp: bool) -> dict:
    """Replace ``"auto"`` values of a DeepSpeed JSON with the config's values."""
    ds = copy.deepcopy(ds)
    ow = cfg.optim_wrapper
    world = int(os.environ.get('WORLD_SIZE', 1))
    accum = ow.get('accumulative_counts', 1)
    micro = cfg.train_dataloader.batch_size
    auto = {'train_micro_batch_size_per_gpu': micro, 'gradient_accumulation_steps': accum,
            'train_batch_size': micro * accum * world,
            'gradient_clipping': (ow.get('clip_grad') or {}).get('max_norm', 1.0)}
    for k, v in auto.items():
        if ds.get(k, 'auto') == 'auto':
            ds[k] = v
    for k in ('bf16', 'fp16'):
        if isinstance(ds.get(k), dict) and ds[k].get('enabled') == 'auto':
            ds[k]['enabled'] = amp and k == 'bf16'
    return ds


def apply_scale_out(cfg, deepspeed: Optional[str] = None, fsdp: bool = False, amp: bool = False) -> None:
    """Switch ``cfg`` to mmengine's FlexibleRunner with a DeepSpeed (``zero2`` / ``zero3`` / a JSON path)
    or FSDP strategy. DDP needs nothing here (``--launcher pytorch``)."""
    if deepspeed and fsdp:
        raise ConfigError('choose one of --deepspeed and --fsdp')
    if not (deepspeed or fsdp):
        return
    import torch
    opt = copy.deepcopy(cfg.optim_wrapper.optimizer)
    cfg.runner_type = 'FlexibleRunner'
    if deepspeed:
        if deepspeed in DEEPSPEED_PRESETS:
            ds = dict(DEEPSPEED_PRESETS[deepspeed], train_micro_batch_size_per_gpu='auto',
                      gradient_accumulation_steps='auto', gradient_clipping='auto', bf16=dict(enabled='auto'))
        elif osp.isfile(deepspeed):
            with open(deepspeed) as f:
                ds = json.load(f)
        else:
            raise ConfigError(f"--deepspeed must be zero2, zero3 or a JSON file, got {deepspeed!r}")
        ds = fill_deepspeed_config(ds, cfg, amp)
        ds.pop('train_batch_size', None)  # derived by DeepSpeed from micro batch x accumulation x world
        cfg.strategy = dict(type='DeepSpeedStrategy', config=ds)
        cfg.optim_wrapper = dict(type='DeepSpeedOptimWrapper', optimizer=opt)
    else:
        wrapper = dict(type='MMFullyShardedDataParallel', use_orig_params=True)
        if not torch.cuda.is_available():
            wrapper['device_id'] = 'cpu'
        cfg.strategy = dict(type='visionllm.TorchFSDPStrategy', model_wrapper=wrapper)
        cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=opt, clip_grad=cfg.optim_wrapper.get('clip_grad'))
