"""Visual prompts: rasterizing regions, their errors, and region samples derived from COCO instance masks."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from visionllm.datasets.transforms.regions import interior_point, rasterize_regions, region_from_mask, region_summary
from visionllm.registry import DATASETS
from visionllm.utils.errors import PromptError


def test_regions_rasterize_at_the_resized_image():
    ori, img = (100, 200), (50, 100)  # the pipeline halved the image
    box = dict(kind='box', box=[20, 10, 60, 50])
    point = dict(kind='point', point=[100, 50])
    scribble = dict(kind='scribble', points=[[10, 10], [190, 90]])
    mask = np.zeros(ori, bool)
    mask[40:60, 120:160] = True
    m = rasterize_regions([box, point, scribble, dict(kind='mask', mask=mask)], ori, img)
    assert m.shape == (4, 50, 100) and m.dtype == bool
    ys, xs = np.nonzero(m[0])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 29, 5, 24)
    ys, xs = np.nonzero(m[1])
    assert abs(xs.mean() - 50) < 0.5 and abs(ys.mean() - 25) < 0.5 and m[1].sum() < 60  # a small disk
    assert m[2][5, 5] and m[2][45, 95] and m[2].sum() < 0.2 * m[2].size  # a line across, not a region
    ys, xs = np.nonzero(m[3])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (60, 79, 20, 29)


@pytest.mark.parametrize('region, words', [
    (dict(kind='box', box=[30, 10, 20, 40]), ['region 2', 'degenerate box']),
    (dict(kind='box', box=[300, 10, 320, 40]), ['region 2', 'outside the 200x100 image']),
    (dict(kind='point', point=[10, 120]), ['region 2', 'outside']),
    (dict(kind='box', box=[1, 2, 3]), ['region 2', '4 numbers']),
    (dict(kind='mask', mask=np.zeros((100, 200), bool)), ['region 2', 'mask is empty']),
    (dict(kind='mask', mask=np.ones((10, 20), bool)), ['region 2', '100x200']),
    (dict(kind='lasso'), ['region 2', 'kind must be one of']),
])
def test_bad_regions_are_named(region, words):
    ok = dict(kind='point', point=[5, 5])
    with pytest.raises(PromptError) as e:
        rasterize_regions([ok, region], (100, 200), (50, 100))
    for w in words:
        assert w in str(e.value)


def test_more_regions_than_fit_is_an_error():
    with pytest.raises(PromptError, match='3 regions given; this model takes at most 2'):
        rasterize_regions([dict(kind='point', point=[5, 5])] * 3, (10, 10), (10, 10), max_regions=2)


def test_regions_from_a_mask():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 5:15] = True
    assert region_from_mask(mask, 'box')['box'] == [5, 10, 15, 30]
    x, y = interior_point(mask)
    assert mask[int(y), int(x)] and abs(x - 10) <= 1 and abs(y - 20) <= 1
    rng = np.random.RandomState(0)
    for kind in ('point', 'scribble'):
        r = region_from_mask(mask, kind, rng)
        pts = np.asarray(r.get('points', [r.get('point')]))
        assert mask[pts[:, 1].astype(int), pts[:, 0].astype(int)].all()  # clicks land on the object
    assert region_summary(dict(kind='mask', mask=mask)) == dict(kind='mask', box=[5.0, 10.0, 15.0, 30.0])


def _dataset(synth_root, task, split='test', kinds=('box', )):
    test_mode = split != 'train'
    pipeline = [dict(type='LoadImage'), dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
                dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=True),
                dict(type='BuildRegionConversation', task=task, test_mode=test_mode),
                dict(type='PackVisionLLMInputs', tile_size=32)]
    with DefaultScope.overwrite_default_scope('visionllm'):
        return DATASETS.build(dict(type='RegionDataset', task=task, kinds=kinds, data_root=synth_root,
                                   ann_file=f'annotations/instances_{split}.json', data_prefix=dict(img=''),
                                   test_mode=test_mode, pipeline=pipeline))


def test_region_samples_come_from_the_instance_masks(synth_root):
    with open(osp.join(synth_root, 'annotations/instances_test.json')) as f:
        coco = json.load(f)
    names = {c['id']: c['name'] for c in coco['categories']}
    iseg = _dataset(synth_root, 'interactive-seg', kinds=('box', 'point'))
    assert len(iseg) == 2 * len(coco['annotations'])  # every object, once per region kind
    s = iseg[0]['data_samples']
    first = coco['annotations'][0]
    assert s.metainfo['task'] == 'interactive-seg' and s.region_names == [names[first['category_id']]]
    assert s.messages[1]['content'] == 'Here are the results: <region>[GRD].'
    assert len(s.gt_instances) == 1 and s.region_masks.shape[0] == 1
    # the region is the object's tight box, in the resized image
    x, y, w, h = first['bbox']
    sx = s.metainfo['scale_factor'][0]
    ys, xs = np.nonzero(s.region_masks[0].numpy())
    assert abs(xs.min() - x * sx) <= 1.5 and abs(xs.max() + 1 - (x + w) * sx) <= 1.5
    assert s.metainfo['region_prompts'][0]['kind'] == 'box'
    np.testing.assert_allclose(s.metainfo['region_prompts'][0]['box'], [x, y, x + w, y + h], atol=1.5)

    vp = _dataset(synth_root, 'detect-by-example')
    pairs = {(a['image_id'], a['category_id']) for a in coco['annotations']}
    assert len(vp) == len(pairs)
    for i in range(len(vp)):
        s = vp[i]['data_samples']
        same = [a for a in coco['annotations']
                if a['image_id'] == s.img_id and names[a['category_id']] == s.class_names[0]]
        assert len(s.gt_instances) == len(same) and (s.gt_instances.labels == 0).all()

    cap = _dataset(synth_root, 'region-caption')[0]['data_samples']
    assert cap.messages == [dict(role='user', content='<image>\nWhat is in <region>?')]  # the model writes the name
    assert cap.gt_answer == names[first['category_id']]


def test_training_region_samples_vary_the_kind(synth_root):
    ds = _dataset(synth_root, 'detect-by-example', split='train')
    np.random.seed(0)
    kinds = {ds[i % len(ds)]['data_samples'].metainfo['region_prompts'][0]['kind'] for i in range(24)}
    assert kinds == {'box', 'point', 'scribble', 'mask'}
