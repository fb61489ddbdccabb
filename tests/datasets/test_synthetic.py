import hashlib
import json
import os
import os.path as osp

import numpy as np

from visionllm.datasets.synthetic import HELD_OUT, generate_dataset
from visionllm.datasets.synthetic.scene import render_scene
from visionllm.datasets.synthetic.text import caption, parse_caption
from visionllm.datasets.synthetic.vocabulary import all_categories, seen_categories


def _digest(root):
    h = hashlib.sha1()
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            with open(osp.join(dirpath, f), 'rb') as fh:
                h.update(f.encode() + fh.read())
    return h.hexdigest()


def test_generator_is_deterministic(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    for root, seed in ((a, 0), (b, 0), (c, 1)):
        generate_dataset(str(root), num_train=6, num_val=3, num_test=2, image_size=64, seed=seed, workers=1)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_formats_and_held_out_split(synth_root):
    with open(osp.join(synth_root, 'annotations/instances_train.json')) as f:
        inst = json.load(f)
    names = {c['id']: c['name'] for c in inst['categories']}
    # the train file lists only the seen categories, with their ids (non-sequential)
    assert sorted(names.values()) == sorted(seen_categories()) and len(names) == 25
    assert {i: n for i, n in enumerate(all_categories(), 1) if n not in HELD_OUT} == names
    with open(osp.join(synth_root, 'annotations/instances_val.json')) as f:
        assert [c['name'] for c in json.load(f)['categories']] == all_categories()
    for split, expected in (('train', seen_categories()), ('val', all_categories()), ('test', all_categories())):
        with open(osp.join(synth_root, f'annotations/semseg_classes_{split}.json')) as f:
            assert json.load(f) == ['background'] + expected
    kinds = {type(a['segmentation']).__name__ for a in inst['annotations']}
    assert kinds == {'list', 'dict'}  # polygons and RLE
    with open(osp.join(synth_root, 'conversations/vqa_train.jsonl')) as f:
        text = f.read()
    assert not any(h in text for h in HELD_OUT)
    with open(osp.join(synth_root, 'annotations/keypoints_val.json')) as f:
        kp = json.load(f)
    assert kp['categories'][0]['keypoints'] == ['top', 'bottom', 'left', 'right', 'center']
    assert len(kp['annotations'][0]['keypoints']) == 15
    for rel in ('t2i/train.jsonl', 'edit/train.jsonl', 't2i/test.jsonl', 'edit/test.jsonl', 'semseg/val/000000.png',
                'semseg/test/000000.png', 'annotations/instances_test.json', 'meta.json'):
        assert osp.exists(osp.join(synth_root, rel)), rel


def test_occlusion_keeps_every_object_visible():
    rng = np.random.default_rng(3)
    for _ in range(20):
        img, objs, _ = render_scene(rng, 96, all_categories(), num_objects=(4, 6))
        for o in objs:
            full = o.mask.sum()
            assert full >= 12
        # visible masks never overlap
        if objs:
            assert (np.sum([o.mask for o in objs], 0) <= 1).all()


def test_caption_parses_back():
    rng = np.random.default_rng(0)
    _, objs, _ = render_scene(rng, 96, all_categories(), num_objects=(3, 5))
    counts = {}
    for o in objs:
        counts[o.name] = counts.get(o.name, 0) + 1
    assert dict(parse_caption(caption(objs))) == counts


def test_train_split_files_never_name_held_out(synth_root):
    """Every file of the train split (annotations, conversations, generation and edit text) is free of
    the held-out names; the semantic maps use only the train class list's values."""
    import cv2
    train_files = [osp.join(dp, f) for dp, _, fs in os.walk(synth_root) for f in fs
                   if '_train' in f or f == 'train.jsonl']
    assert len(train_files) >= 8, train_files
    for path in train_files:
        with open(path) as f:
            text = f.read().lower()
        found = [h for h in HELD_OUT if h in text]
        assert not found, f'{path} names held-out categories {found}'
    n_train_classes = len(seen_categories()) + 1
    for f in os.listdir(osp.join(synth_root, 'semseg/train')):
        assert cv2.imread(osp.join(synth_root, 'semseg/train', f), 0).max() < n_train_classes
