"""Every config in configs/ builds (with its tiny overrides) through the registry."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import REPO, tiny_config
from visionllm.apis.runner_utils import check_config_types
from visionllm.registry import DATASETS, MODELS
from visionllm.utils.errors import ConfigError

CONFIGS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs/visionllm/*.py')))


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path, synth_root, tokenizer_dir, tmp_path):
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    check_config_types(cfg, path)
    full = 'full' in osp.basename(path)
    assert 'tiny' in osp.basename(path) or full
    with DefaultScope.overwrite_default_scope('visionllm'):
        if full:  # full-size: on the meta device, with the offline tokenizer (vocabulary from the config)
            cfg.model.mllm.tokenizer = dict(path=tokenizer_dir)
            with torch.device('meta'):
                model = MODELS.build(cfg.model)
            assert sum(p.numel() for p in model.parameters()) > 1e9
        else:
            model = MODELS.build(cfg.model)
            assert sum(p.numel() for p in model.parameters()) > 0
        ds = DATASETS.build(cfg.train_dataloader.dataset)
        assert len(ds) > 0
        sample = ds[0]
        assert 'inputs' in sample or 'skipped' in sample


def test_misspelt_type_names_the_field():
    cfg = Config(dict(model=dict(type='VisionLLMM', mllm=dict(type='InternVLMLLM'))))
    with pytest.raises(ConfigError, match=r"model\.type='VisionLLMM'.*did you mean 'VisionLLM'"):
        check_config_types(cfg, 'x.py')


@pytest.mark.parametrize('path', CONFIGS)
def test_schedule_matches_name(path):
    """The `NxB-<iters>` part of the name is the schedule: max_iters, and the LR schedule ends there."""
    cfg = Config.fromfile(osp.join(REPO, path))
    m = re.search(r'_(\d+)xb(\d+)-([\d.]+)k_', osp.basename(path))
    assert m, f'{path}: name lacks the `NxB-<iters>k` schedule part'
    assert cfg.train_cfg.max_iters == round(float(m.group(3)) * 1000), path
    assert cfg.train_dataloader.batch_size == int(m.group(2)), path
    assert max(s.get('end', 0) for s in cfg.param_scheduler) == cfg.train_cfg.max_iters, path


@pytest.mark.parametrize('path', CONFIGS)
def test_test_split_is_scored(path):
    """tools/test.py scores the test split (published numbers); validation during training reads val."""
    cfg = Config.fromfile(osp.join(REPO, path))
    if 'test_dataloader' not in cfg:
        pytest.skip('no test loop')
    test_side = str(cfg.test_dataloader.to_dict()) + str(cfg.test_evaluator)
    val_side = str(cfg.val_dataloader.to_dict()) + str(cfg.val_evaluator)
    assert 'test' in test_side and not re.search(r'[_/]val\b|val\.json', test_side), path
    assert not re.search(r'[_/]test\b|test\.json', val_side), path
