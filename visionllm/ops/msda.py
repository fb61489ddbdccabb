"""Multi-scale deformable attention on CPU through a small C++ kernel.

mmcv's compiled deformable attention runs only on CUDA / MLU / MUSA / NPU tensors; on CPU it uses its
pure-PyTorch path (3 ``grid_sample`` calls, a ``stack`` of the sampled values and a weighted sum), the
largest single cost of the tiny detection decoder's training step. ``csrc/msda_cpu.cpp`` computes the
same function without materialising the sampled values (forward + backward about 4x faster at the
encoder's shapes). It is built once with ``torch.utils.cpp_extension`` (about 30 s, cached in a folder of
``~/.cache/torch_extensions`` (or ``$TORCH_EXTENSIONS_DIR``) named after the source file's path and content,
so two checkouts never rebuild over each other; a build lock left by a killed build is removed after
:data:`STALE_LOCK_S` instead of blocking every later run). :func:`install_cpu_msda` makes mmcv's
``MultiScaleDeformableAttention`` use it for float32 / float64 CPU tensors; anything else, a failed build or
``VISIONLLM_MSDA_KERNEL=0`` keeps mmcv's path.
"""
import hashlib
import importlib
import os
import sys
import time
from pathlib import Path

import torch
from torch import Tensor

SOURCE = Path(__file__).parent / 'csrc' / 'msda_cpu.cpp'
_state = dict(kernel=None, tried=False)
STALE_LOCK_S = 300.0  # a build takes well under a minute; a lock older than this belongs to a killed build


def build_dir(source: Path, name: str) -> Path:
    """The kernel's own build folder: one per source file (path and content), Python and torch version."""
    from torch.utils.cpp_extension import get_default_build_root
    root = os.environ.get('TORCH_EXTENSIONS_DIR') or get_default_build_root()
    key = hashlib.sha1(b'\0'.join([str(source.resolve()).encode(), source.read_bytes(), sys.version.encode(),
                                    torch.__version__.encode()])).hexdigest()[:12]
    return Path(root) / f'{name}_{key}'


def clear_stale_lock(folder: Path, stale_s: float = STALE_LOCK_S, poll_s: float = 1.0) -> bool:
    """Wait while another process holds ``folder/lock``; remove it once it is older than ``stale_s``
    (torch waits on a lock forever). True when a stale lock was removed."""
    lock = folder / 'lock'
    while lock.exists():
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:  # the other build just finished
            return False
        if age > stale_s:
            from mmengine.logging import print_log
            lock.unlink(missing_ok=True)
            print_log(f'removed a stale build lock {lock} ({age:.0f} s old, left by a killed build)',
                      logger='current', level=30)
            return True
        time.sleep(poll_s)
    return False


def build_kernel(source: Path = SOURCE, name: str = 'visionllm_msda_cpu'):
    """Compile (or load the cached build of) ``source``; None, with a logged line naming why, on failure."""
    try:
        from torch.utils.cpp_extension import load
        folder = build_dir(source, name)
        folder.mkdir(parents=True, exist_ok=True)
        clear_stale_lock(folder)
        return load(name, [str(source)], extra_cflags=['-O3', '-fopenmp'], extra_ldflags=['-fopenmp'],
                    build_directory=str(folder))
    except Exception as err:  # no compiler, no ninja, a compile error: mmcv's PyTorch path still works
        from mmengine.logging import print_log
        reason = ' '.join(str(err).split())[-300:]  # one line
        print_log(f'could not build the CPU deformable-attention kernel {source} ({type(err).__name__}: {reason}); '
                  'using mmcv\'s PyTorch path', logger='current', level=30)
        return None


def msda_kernel():
    """The built kernel module, or None when disabled (``VISIONLLM_MSDA_KERNEL=0``) or not buildable."""
    if os.environ.get('VISIONLLM_MSDA_KERNEL', '1') == '0':
        return None
    if not _state['tried']:
        _state['tried'] = True
        _state['kernel'] = build_kernel()
    return _state['kernel']


class _MSDAFunction(torch.autograd.Function):

    @staticmethod
    def forward(ctx, value: Tensor, shapes: Tensor, loc: Tensor, weights: Tensor) -> Tensor:
        shapes = shapes.to('cpu', torch.long)
        ctx.save_for_backward(value, shapes, loc, weights)
        return msda_kernel().forward(value, shapes, loc, weights)

    @staticmethod
    def backward(ctx, grad: Tensor):
        value, shapes, loc, weights = ctx.saved_tensors
        g_value, g_loc, g_weights = msda_kernel().backward(value, shapes, loc, weights, grad.contiguous())
        return g_value, None, g_loc, g_weights


def mmcv_pytorch_msda():
    """mmcv's own ``multi_scale_deformable_attn_pytorch`` (also after :func:`install_cpu_msda`)."""
    mod = importlib.import_module('mmcv.ops.multi_scale_deform_attn')
    return mod.__dict__.get('_mmcv_multi_scale_deformable_attn_pytorch', mod.multi_scale_deformable_attn_pytorch)


def uses_kernel(value: Tensor, loc: Tensor, weights: Tensor) -> bool:
    """Whether :func:`multi_scale_deformable_attn` takes the C++ kernel for these inputs."""
    ok = all(t.device.type == 'cpu' and t.dtype == value.dtype for t in (value, loc, weights))
    return ok and value.dtype in (torch.float32, torch.float64) and msda_kernel() is not None


def multi_scale_deformable_attn(value: Tensor, value_spatial_shapes: Tensor, sampling_locations: Tensor,
                                attention_weights: Tensor) -> Tensor:
    """value [B, K, heads, c], shapes [L, 2] (h, w), locations [B, Q, heads, L, P, 2] in [0, 1],
    weights [B, Q, heads, L, P] -> [B, Q, heads * c]; mmcv's ``multi_scale_deformable_attn_pytorch``."""
    if uses_kernel(value, sampling_locations, attention_weights):
        return _MSDAFunction.apply(value, value_spatial_shapes, sampling_locations, attention_weights)
    return mmcv_pytorch_msda()(value, value_spatial_shapes, sampling_locations, attention_weights)


def install_cpu_msda() -> None:
    """Route mmcv's ``MultiScaleDeformableAttention`` (PyTorch path) through :func:`multi_scale_deformable_attn`;
    mmcv's own function stays available as ``_mmcv_multi_scale_deformable_attn_pytorch``."""
    mod = importlib.import_module('mmcv.ops.multi_scale_deform_attn')
    if '_mmcv_multi_scale_deformable_attn_pytorch' not in mod.__dict__:
        mod._mmcv_multi_scale_deformable_attn_pytorch = mod.multi_scale_deformable_attn_pytorch
    mod.multi_scale_deformable_attn_pytorch = multi_scale_deformable_attn
