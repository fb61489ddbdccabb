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


FULL = [p for p in CONFIGS if 'full' in osp.basename(p)]
# the joint config's model, with another load_from: built once
FULL_MODELS = [p for p in FULL if 'stage2-joint' not in p]
# configs of public datasets in their home library's layout: built and run on real-format fixtures in
# tests/tools/test_real_data.py (not the synthetic layout)
PUBLIC = [p for p in CONFIGS if p.endswith(('_lvis.py', '_ade20k.py', '_refcoco.py'))]


def test_every_config_is_tiny_or_full_size():
    """Tiny configs are built and trained (2 iterations, 2-process DDP) in
    tests/engine/test_scale_out.py::test_every_tiny_config_trains_under_ddp; full-size ones here."""
    assert FULL and all('tiny' in osp.basename(p) or p in FULL for p in CONFIGS)


@pytest.mark.parametrize('path', FULL_MODELS)
def test_full_size_config_builds_on_the_meta_device(path, synth_root, tokenizer_dir, tmp_path):
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    check_config_types(cfg, path)
    with DefaultScope.overwrite_default_scope('visionllm'):
        cfg.model.mllm.tokenizer = dict(path=tokenizer_dir)  # the offline tokenizer (vocabulary from the config)
        with torch.device('meta'):
            model = MODELS.build(cfg.model)
        assert sum(p.numel() for p in model.parameters()) > 5e8  # InternVL3-1B: 0.6B MLLM + decoders
        sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
        assert sample['inputs']['tiles'].shape[-2:] == (448, 448)


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
    if cfg.get('public_test_labels', True) is False:
        pytest.skip('the benchmark keeps its test labels private: its validation split is what is reported')
    test_side = str(cfg.test_dataloader.to_dict()) + str(cfg.test_evaluator)
    val_side = str(cfg.val_dataloader.to_dict()) + str(cfg.val_evaluator)
    assert 'test' in test_side and not re.search(r'[_/]val\b|val\.json', test_side), path
    assert not re.search(r'[_/]test\b|test\.json', val_side), path


@pytest.mark.parametrize('path', CONFIGS)
def test_evaluation_datasets_build(path, synth_root, tokenizer_dir, tmp_path):
    """The validation and test sets of every config build (several tasks side by side included) and
    give a sample from their first and last part."""
    if path in PUBLIC:
        pytest.skip('a public dataset layout: tests/tools/test_real_data.py')
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    with DefaultScope.overwrite_default_scope('visionllm'):
        for key in ('val_dataloader', 'test_dataloader'):
            ds = DATASETS.build(cfg[key].dataset)
            for idx in (0, len(ds) - 1):
                sample = ds[idx]
                assert 'inputs' in sample or 'skipped' in sample, (key, idx)
