"""Shared by the benchmarks: building a model from a config, batches, clocks, memory, a scene picture."""
import os.path as osp
import time

# dense bf16 peak TFLOP/s by device-name substring (vendor data sheets); --peak-tflops overrides
PEAK_BF16_TFLOPS = {'H200': 989.0, 'H100': 989.0, 'A100': 312.0, 'L40S': 362.0, 'A10': 125.0}


def offline_tokenizer(cfg):
    """Random-init full-size configs without a local checkpoint: the offline BPE (vocab from the config)."""
    import tempfile
    tok = cfg.model.get('mllm', {}).get('tokenizer') or {}
    if 'mllm' in cfg.model and not osp.isdir(tok.get('path') or ''):
        cfg.model.mllm.tokenizer = dict(path=osp.join(tempfile.gettempdir(), 'visionllm-bpe'), train_if_missing=True)
        cfg.model.mllm.pop('pretrained', None)


def build_model(config, weights=None, cfg_options=None, cut=False):
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from visionllm.apis.cut_depth import cut_depth
    from visionllm.apis.runner_utils import load_config
    from visionllm.registry import MODELS
    cfg = load_config(config, cfg_options)  # tile size synced there; cut_depth keeps tiles
    if cut:
        cut_depth(cfg)
    if not weights:
        offline_tokenizer(cfg)
    init_default_scope('visionllm')
    model = MODELS.build(cfg.model)
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter's initialiser
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if weights:
        load_checkpoint(model, weights, map_location='cpu', logger='silent')
    return cfg, model


def batches_of(cfg, n, loader_key='train_dataloader', batch_size=None):
    from mmengine.runner import Runner
    lc = cfg[loader_key].copy()
    lc.update(num_workers=0, persistent_workers=False)
    if batch_size:
        lc.batch_size = batch_size
    it = iter(Runner.build_dataloader(lc))
    return [next(it) for _ in range(n)]


def parse_options(pairs) -> dict:
    """``key=value`` strings (values parsed as Python literals where they are) -> dict."""
    import ast
    out = {}
    for pair in pairs or []:
        key, _, value = pair.partition('=')
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def peak_gib(device) -> float:
    import resource

    import torch
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def clock() -> float:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def scene_image(size: int):
    """An embedded-data scene (128 px) upscaled to ``size`` x ``size``: realistic content at any size."""
    import cv2
    import numpy as np

    from visionllm.datasets.synthetic import all_categories
    from visionllm.datasets.synthetic.scene import render_scene
    img, _, _ = render_scene(np.random.default_rng(0), 128, all_categories())
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
