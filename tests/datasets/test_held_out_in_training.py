"""No held-out category name reaches training: every training dataset of every config is built from the
config and a few hundred of its generated samples (conversations, class lists, groups) are scanned."""
import json

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from tests.conftest import tiny_config
from tests.test_configs import CONFIGS, PUBLIC
from visionllm.datasets.synthetic import HELD_OUT
from visionllm.registry import DATASETS

SAMPLES_PER_DATASET = 200


def leaf_datasets(node):
    """The dataset configs with a pipeline inside a (Mixture / Concat / Repeat) dataset config."""
    if 'datasets' in node:
        return [leaf for d in node['datasets'] for leaf in leaf_datasets(d)]
    if 'dataset' in node:
        return leaf_datasets(node['dataset'])
    return [node]


def strings(node):
    """Every string inside nested dicts / lists / tuples."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from strings(v)


def held_out_in(texts) -> list:
    return sorted({h for t in texts for h in HELD_OUT if h in t.lower()})


def test_scanner_finds_a_held_out_name():
    """The scan itself can fail: a prompt naming a held-out category, in any case, is caught."""
    meta = dict(messages=[dict(role='user', content='Please detect red circle and Purple Star in the image.')])
    assert held_out_in(strings(meta)) == ['purple star']
    assert held_out_in(strings(dict(class_names=('red circle', 'blue square')))) == []


@pytest.fixture(scope='module')
def training_datasets(synth_root, tokenizer_dir, tmp_path_factory):
    """Unique leaf training-dataset configs over all configs: {key: (config, dataset cfg)}."""
    out = {}
    for path in CONFIGS:
        if path in PUBLIC:  # public datasets' own files (LVIS, ADE20K, RefCOCO): not the synthetic data
            continue
        cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path_factory.mktemp('cfg')))
        for leaf in leaf_datasets(cfg.train_dataloader.dataset.to_dict()):
            # the same files through the same prompt builders (other sizes) give the same text: scanned once
            builders = [t for t in leaf.get('pipeline', []) if str(t.get('type', '')).startswith('Build')]
            key = dict({k: v for k, v in leaf.items() if k != 'pipeline'}, builders=builders)
            out.setdefault(json.dumps(key, sort_keys=True, default=str), (path, leaf))
    return out


def test_no_held_out_name_in_training_samples(training_datasets):
    assert len(training_datasets) >= 8  # det, grounding, caption, vqa, seg, pose, gen, edit
    tasks = set()
    np.random.seed(0)
    for path, leaf in training_datasets.values():
        with DefaultScope.overwrite_default_scope('visionllm'):
            ds = DATASETS.build(leaf)
        where = f'{path}: {leaf["type"]} {leaf.get("ann_file") or leaf.get("data_prefix")}'
        assert not held_out_in(strings(dict(ds.metainfo))), f'{where}: dataset metainfo names held-out classes'
        scanned = 0
        for i in range(SAMPLES_PER_DATASET):
            item = ds[i % len(ds)]
            if 'skipped' in item:
                continue
            meta = item['data_samples'].metainfo
            tasks.add(meta.get('task'))
            assert meta.get('messages'), f'{where}: sample {i} has no conversation'
            found = held_out_in(strings({k: v for k, v in meta.items() if k not in ('img_path', 'gt_img_path')}))
            assert not found, f'{where}: sample {i} names held-out categories {found}: {meta.get("messages")}'
            scanned += 1
        assert scanned >= SAMPLES_PER_DATASET // 2, f'{where}: only {scanned} good samples'
    assert {'det', 'grounding', 'caption', 'vqa', 'semseg', 'pose', 'gen', 'edit'} <= tasks, tasks
