"""Shared glue of tools/train.py and tools/test.py: config loading, checks, friendly errors."""
import difflib
import os.path as osp
import sys
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

from visionllm.utils.errors import ConfigError, VisionLLMError


def iter_types(node, path: str = 'cfg') -> Iterator[Tuple[str, str]]:
    """(dotted path, type name) of every ``type=`` string in a config tree."""
    if isinstance(node, dict):
        t = node.get('type')
        if isinstance(t, str):
            yield path, t
        for k, v in node.items():
            yield from iter_types(v, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from iter_types(v, f'{path}[{i}]')


def known_type_names() -> List[str]:
    """Names registered in visionllm's registries and mmengine's roots."""
    from mmengine.registry import Registry

    from visionllm import registry as R
    names = set()
    for reg in vars(R).values():
        if isinstance(reg, Registry):
            reg.import_from_location()
            names |= set(reg.module_dict)
            if reg.parent is not None:
                names |= set(reg.parent.module_dict)
    return sorted(names)


def check_config_types(cfg, filename: str = 'config') -> None:
    """Raise ConfigError for an unscoped ``type=`` that no registry knows, with close matches."""
    known = set(known_type_names())
    for path, t in iter_types(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg):
        if '.' in t or t in known:
            continue  # scoped names (mmdet.X) are resolved by their own registries at build time
        close = difflib.get_close_matches(t, known, n=3, cutoff=0.6)
        hint = f'; did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
        raise ConfigError(f'{filename}: `{path[4:]}.type={t!r}` is not a registered type{hint}')


def _follow(value: str, old: str, new: str) -> str:
    """``value`` with ``old`` replaced by ``new`` where it is the whole string, its start (a root joined with
    more) or its end after a ``/`` (a file under a root)."""
    if value == old:
        return new
    if value.startswith(old) and (old.endswith('/') or value[len(old)] in '/._'):
        return new + value[len(old):]
    if value.endswith(old) and value[-len(old) - 1] == '/':
        return value[:-len(old)] + new
    return value


_SIZED_TRANSFORMS = {'Resize', 'RandomResize', 'RandomChoiceResize', 'RandomCrop', 'Pad', 'CenterCrop'}
_SIZE_KEYS = {'scale', 'scales', 'crop_size', 'size'}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _resized(value, old: int, new: int):
    """``value`` (a side, a (w, h) pair or a list of them) with each ``old`` side replaced by ``new``."""
    if _is_int(value):
        return new if value == old else value
    if isinstance(value, (list, tuple)):
        return type(value)(_resized(v, old, new) for v in value)
    return value


def propagate_variables(cfg, options: dict) -> None:
    """Make top-level string variables of a config (``data_root``, ``train_ann`` ...) set with --cfg-options
    reach the values that were built from them when the file was read (``data_root + 'annotations/...'``
    in datasets and evaluators), as a user of the variable expects; ``image_size`` likewise reaches the
    sides equal to its old value in every resize / crop / pad transform. Changes ``cfg`` in place."""
    pairs = [(k, cfg[k], v) for k, v in options.items()
             if '.' not in k and isinstance(cfg.get(k), str) and cfg[k] and isinstance(v, str) and v != cfg[k]]
    sizes = [(cfg[k], v) for k, v in options.items() if k == 'image_size' and _is_int(cfg.get(k)) and _is_int(v)
             and v != cfg[k]]
    if not pairs and not sizes:
        return

    def walk(node):
        if isinstance(node, dict):
            if sizes and isinstance(node.get('type'), str) and node['type'].split('.')[-1] in _SIZED_TRANSFORMS:
                node = {k: _resized(v, *sizes[0]) if k in _SIZE_KEYS else v for k, v in node.items()}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(walk(v) for v in node)
        if isinstance(node, str):
            for _, old, new in pairs:
                node = _follow(node, old, new)
        return node

    from mmengine.config import ConfigDict
    for key, value in walk(cfg.to_dict()).items():
        cfg[key] = ConfigDict(value) if isinstance(value, dict) else value


def _autocast_without_gpu(cfg) -> None:
    """mmengine's AmpOptimWrapper needs a GPU: without one, bf16 autocast through AutocastOptimWrapper."""
    import torch
    wrapper = cfg.get('optim_wrapper') or {}
    if wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        from mmengine.logging import print_log
        dtype = wrapper.get('dtype') or 'bfloat16'
        for key in ('loss_scale', 'use_fsdp'):
            wrapper.pop(key, None)
        wrapper.update(type='AutocastOptimWrapper', dtype='bfloat16' if dtype == 'float16' else dtype)
        print_log(f'no GPU: {wrapper["dtype"]} autocast on the CPU (AutocastOptimWrapper)', logger='current')


def load_config(config: str, cfg_options: Optional[dict] = None):
    """``config`` as every tool reads it: ``cfg_options`` (parsed ``--cfg-options``) merged after the top-level
    variables they set (``data_root``, ``image_size`` ...) reached what was built from them
    (:func:`propagate_variables`), the tile size synced with the model; yapf off (:func:`plain_text`)."""
    from mmengine.config import Config
    if not osp.isfile(config):
        raise ConfigError(f'config file {config!r} not found')
    cfg = plain_text(Config.fromfile(config))
    if cfg_options:
        propagate_variables(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    from visionllm.apis.tile_size import sync_tile_size
    sync_tile_size(cfg)
    return cfg


def build_runner_cfg(config: str, cfg_options: Optional[dict] = None, work_dir: Optional[str] = None,
                     launcher: str = 'none', amp: bool = False, resume: Optional[str] = None,
                     load_from: Optional[str] = None, deepspeed: Optional[str] = None, fsdp: bool = False):
    """Load ``config``, apply CLI options, check types; returns the mmengine Config for the Runner."""
    cfg = load_config(config, cfg_options)
    cfg.launcher = launcher
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    _autocast_without_gpu(cfg)
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume:
        cfg.resume, cfg.load_from = True, resume
    if load_from:
        cfg.load_from = load_from
    check_config_types(cfg, config)
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == 'TokenizeInWorkersHook' for h in hooks):  # tokenisation in the dataloader workers
        cfg.custom_hooks = hooks + [dict(type='TokenizeInWorkersHook')]
    from visionllm.engine.scale_out import apply_scale_out, init_cpu_distributed, touch_decoders_when_distributed
    touch_decoders_when_distributed(cfg)
    apply_scale_out(cfg, deepspeed=deepspeed, fsdp=fsdp, amp=amp)
    init_cpu_distributed(cfg)
    return cfg


def plain_text(cfg):
    """``cfg`` (an mmengine Config) whose ``pretty_text`` is not reformatted by yapf. The Runner writes that text
    to the work dir, the log and every checkpoint, and yapf takes 2-3 s a time on a joint config (mmengine's
    ``Config.fromfile`` does not pass its ``format_python_code`` on); unformatted, the text is the same valid
    Python, one key per line. Returns ``cfg``."""
    object.__setattr__(cfg, '_format_python_code', False)
    return cfg


def build_runner(cfg):
    """mmengine's Runner, or the registered runner named by ``cfg.runner_type`` (FlexibleRunner)."""
    from mmengine.config import Config
    if isinstance(cfg, Config):
        plain_text(cfg)
    if 'runner_type' in cfg and cfg.runner_type != 'Runner':
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)


@contextmanager
def friendly_errors(source: str):
    """Turn user errors (bad config, data, prompt) into one clear line on stderr and exit code 2."""
    try:
        yield
    except VisionLLMError as e:
        print(f'error ({type(e).__name__}): {e}', file=sys.stderr)
        sys.exit(2)
    except KeyError as e:
        msg = str(e.args[0]) if e.args else str(e)
        if 'registry' in msg:
            print(f'error (ConfigError): {source}: {msg}', file=sys.stderr)
            sys.exit(2)
        raise
