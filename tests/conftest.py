"""Shared fixtures: tiny synthetic data, an offline tokenizer and tiny-config helpers."""
import copy
import os
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# pytest-xdist runs two workers on the 2 cores (scripts/run_tests.sh): one thread each; alone, both cores
THREADS = 1 if os.environ.get('PYTEST_XDIST_WORKER') else 2
torch.set_num_threads(THREADS)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a torchrun rendezvous or a test server)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True, scope='session')
def _visionllm_scope():
    """Build nested components in visionllm's scope, as the Runner does."""
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('visionllm')
    MMLogger.get_instance('mmengine').setLevel('WARNING')  # no per-parameter init dumps


@pytest.fixture(scope='session')
def synth_root(tmp_path_factory) -> str:
    """A tiny embedded dataset (all formats), generated once per session."""
    from visionllm.datasets.synthetic import generate_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_dataset(root, num_train=24, num_val=8, num_test=4, image_size=96, seed=0, workers=1)
    return root


@pytest.fixture(scope='session')
def tokenizer_dir(tmp_path_factory) -> str:
    from visionllm.models.mllm.tokenizer import synthetic_corpus, train_bpe_tokenizer
    path = str(tmp_path_factory.mktemp('tok') / 'bpe')
    train_bpe_tokenizer(path, synthetic_corpus(), vocab_size=1024)
    return path


def _replace(node, old: str, new: str):
    if isinstance(node, dict):
        return {k: _replace(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, old, new) for v in node]
    if isinstance(node, tuple):
        return tuple(_replace(v, old, new) for v in node)
    if isinstance(node, str) and old in node:
        return node.replace(old, new)
    return node


def tiny_config(path: str, synth_root: str, tokenizer_dir: str, work_dir: str, iters: int = 2):
    """Load a repo config and point it at the tiny data; 2 iterations, batch 2, no workers."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, path))
    d = _replace(cfg.to_dict(), 'data/synthetic/', synth_root.rstrip('/') + '/')
    for template in ('data/my_coco/', 'data/my_seg/', 'data/my_kpt/'):  # the custom-data templates
        d = _replace(d, template, synth_root.rstrip('/') + '/')
    d = _replace(d, 'data/tokenizers/synthetic-bpe', tokenizer_dir)
    cfg = Config(d, format_python_code=False)  # no yapf: dumps and the Runner's copies of the text are quick
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg:
            cfg[key].batch_size = 2
            cfg[key].num_workers = 0
            cfg[key].persistent_workers = False
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = iters
    return cfg


def tiny_model_cfg(tokenizer_dir: str, decoders=None) -> dict:
    """The tiny generalist of configs/_base_/models with the test tokenizer."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/visionllm_internvl-tiny.py'))
    model = copy.deepcopy(cfg.model.to_dict())
    model['mllm']['tokenizer']['path'] = tokenizer_dir
    model['mllm']['text_config'].update(hidden_size=64, intermediate_size=128)
    if decoders:
        model['decoders'] = decoders
    return model


@pytest.fixture
def cwd_repo(monkeypatch):
    monkeypatch.chdir(REPO)
    os.environ.setdefault('PYTHONPATH', REPO)
    return REPO


@pytest.fixture
def log_records():
    """Records (logging.LogRecord) logged through mmengine's current logger during the test."""
    import logging

    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
