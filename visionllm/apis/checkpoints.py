"""Checkpoints as every tool reads them: an mmengine ``.pth`` file or a DeepSpeed checkpoint directory.

Training with ``--deepspeed`` (mmengine's DeepSpeedStrategy) writes ``iter_N.pth`` as a directory
(``mp_rank_00_model_states.pt`` plus ZeRO optimizer shards); its fp32 weights are gathered with
DeepSpeed's own ``zero_to_fp32`` (ZeRO-2 and ZeRO-3 alike).
"""
import glob
import os
import os.path as osp
from typing import Dict

import torch

from visionllm.utils.errors import ConfigError


def is_deepspeed_checkpoint(path: str) -> bool:
    return osp.isdir(path) and bool(glob.glob(osp.join(path, '*model_states.pt')))


def deepspeed_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """fp32 state dict (parameters and buffers) of the DeepSpeed checkpoint directory ``path``."""
    from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
    path = path.rstrip('/')
    return get_fp32_state_dict_from_zero_checkpoint(osp.dirname(path) or '.', tag=osp.basename(path))


def loadable_checkpoint(path: str, out_dir: str) -> str:
    """``path`` if it is a checkpoint file; for a DeepSpeed checkpoint directory, its consolidated weights
    written once to ``out_dir/<name>_fp32.pth`` (what mmengine's ``load_checkpoint`` reads). Under
    ``torchrun`` the local rank 0 of each machine writes it (to a temporary name, then renamed) while the
    others wait at a barrier."""
    from mmengine.dist import barrier
    if osp.isfile(path):
        return path
    if not osp.exists(path):
        raise ConfigError(f'checkpoint {path!r} not found')
    if not is_deepspeed_checkpoint(path):
        raise ConfigError(f'checkpoint {path!r} is a directory without DeepSpeed model states '
                          '(*model_states.pt): expected an mmengine .pth file or a DeepSpeed checkpoint directory')
    name = osp.splitext(osp.basename(path.rstrip('/')))[0]
    out = osp.join(out_dir, f'{name}_fp32.pth')
    local_rank = int(os.environ.get('LOCAL_RANK', 0))  # set by torchrun (mmengine's needs its local group)
    if local_rank == 0 and (not osp.isfile(out) or osp.getmtime(out) < osp.getmtime(path)):
        os.makedirs(out_dir, exist_ok=True)
        tmp = f'{out}.{os.getpid()}.tmp'
        torch.save(dict(state_dict=deepspeed_state_dict(path), meta=dict(deepspeed_checkpoint=osp.abspath(path))),
                   tmp)
        os.replace(tmp, out)
    barrier()
    return out


def load_weights(model: torch.nn.Module, path: str) -> None:
    """Load a checkpoint file or a DeepSpeed checkpoint directory into ``model`` (CPU, non-strict as
    mmengine's ``load_checkpoint``; a ``module.`` prefix of wrapped models is removed)."""
    from mmengine.runner import load_checkpoint, load_state_dict
    if osp.isfile(path):
        load_checkpoint(model, path, map_location='cpu', revise_keys=[(r'^module\.', '')], logger='current')
    elif is_deepspeed_checkpoint(path):
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in deepspeed_state_dict(path).items()}
        load_state_dict(model, state, logger='current')
    else:
        raise ConfigError(f'checkpoint {path!r} not found (an mmengine .pth file or a DeepSpeed checkpoint directory)')
