"""Make mmcv importable without its compiled ops.

A plain ``pip install onedl-mmcv`` ships no ``mmcv._ext``; ``mmcv.ops`` (and so mmdet, mmseg and
mmpose) then fail to import. :func:`ensure_mmcv_ops` registers a stand-in ``mmcv._ext`` whose
functions raise :class:`MissingCompiledOpError` naming the kernel and how to build it, and forces
mmcv's pure-PyTorch multi-scale deformable attention (which would otherwise dispatch to the missing
kernel on a CUDA device). Everything this project runs by default has a PyTorch path.
"""
import importlib
import importlib.machinery
import sys
import types

BUILD_HINT = ('build mmcv with compiled ops: `scripts/setup_env.sh --mmcv-ops` '
              '(CPU, ~15 min) or install an onedl-mmcv wheel built with CUDA ops')


class MissingCompiledOpError(RuntimeError):
    """A compiled mmcv kernel was called but mmcv was installed without ops."""


def _missing(name: str):

    def fn(*args, **kwargs):
        raise MissingCompiledOpError(f'mmcv compiled op `{name}` is not available: {BUILD_HINT}.')

    fn.__name__ = name
    return fn


class _StandInExt(types.ModuleType):
    """Module whose every attribute is a function raising MissingCompiledOpError."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing(name)


def has_compiled_ops() -> bool:
    """Whether a real compiled ``mmcv._ext`` is importable."""
    mod = sys.modules.get('mmcv._ext')
    if isinstance(mod, _StandInExt):
        return False
    try:
        importlib.import_module('mmcv._ext')
        return True
    except ImportError:
        return False


def ensure_mmcv_ops() -> bool:
    """Install the stand-in when needed. Returns True when real compiled ops exist."""
    if has_compiled_ops():
        return True
    import mmcv  # noqa: F401  (the package itself imports fine without ops)
    stand_in = _StandInExt('mmcv._ext')
    stand_in.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = stand_in
    msda = importlib.import_module('mmcv.ops.multi_scale_deform_attn')
    msda.IS_CUDA_AVAILABLE = False  # always take the PyTorch path
    return False
