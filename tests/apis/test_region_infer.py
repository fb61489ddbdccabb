"""Visual prompts end to end: the region config trains and is scored on its region metrics; tools/infer.py
--task region-caption / interactive-seg / detect-by-example with --region / --point, the Python API, pictures,
bad regions, and tools/test_clicks.py."""
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from tests.conftest import tiny_config
from tests.tools.test_cli import run
from visionllm.utils.errors import PromptError

REGION = 'configs/visionllm/visionllm_internvl-tiny_det-region_1xb8-1.8k_synthetic.py'


@pytest.fixture(scope='module')
def trained(synth_root, tokenizer_dir, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('region'))
    cfg = tiny_config(REGION, synth_root, tokenizer_dir, work)
    for key in ('val_dataloader', 'test_dataloader'):
        for ds in cfg[key].dataset.datasets:
            ds['indices'] = 2
    config = osp.join(work, 'region.py')
    cfg.dump(config)
    r = run(['tools/train.py', config, '--work-dir', work])
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    return config, osp.join(work, 'iter_2.pth'), log


def test_the_region_config_trains_and_scores_its_tasks(trained):
    _, _, log = trained
    for key in ('region/accuracy', 'interactive/box_mIoU', 'interactive/point_mIoU', 'vpdet/bbox_mAP', 'count/MAE',
                'det/bbox_mAP'):
        assert key in log, key


def test_region_tasks_from_the_command_line(trained, synth_root, tmp_path):
    config, ckpt, _ = trained
    image = osp.join(synth_root, 'images', 'test', '000000.png')  # 96 px, seen by the model at 64 px
    import cv2
    out = tmp_path / 'iseg'
    mask = np.zeros((96, 96), np.uint8)
    mask[30:50, 20:40] = 255
    cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    r = run(['tools/infer.py', image, config, '--weights', ckpt, '--task', 'interactive-seg', '--point', '40,50',
             '--region', '10,12,60,70', '--mask', str(tmp_path / 'mask.png'), '--max-image-size', '64',
             '--out-dir', str(out)])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    pred = json.load(open(out / 'preds' / '000000.json'))
    # boxes, points, scribbles, masks; in the file's coordinates; one answer (the best mask) per region at most
    assert pred['regions'] == [dict(kind='box', box=[10.0, 12.0, 60.0, 70.0]), dict(kind='point', point=[40.0, 50.0]),
                               dict(kind='mask', box=[20.0, 30.0, 40.0, 50.0])]
    assert pred['image_size'] == [96, 96] and len(pred['masks']) <= 3
    assert set(pred['label_names']) <= {'region 1', 'region 2', 'region 3'}
    for rle in pred['masks']:
        assert mask_utils.decode(dict(rle, counts=rle['counts'].encode())).shape == (96, 96)
    assert osp.exists(out / 'vis' / '000000.png')



def test_region_pictures_of_same_stem_inputs_are_kept_apart(trained, synth_root, tmp_path, monkeypatch, capsys):
    """In process: a folder holding a.png and a.jpg gets one JSON and one picture each (a_png, a_jpg)."""
    import shutil
    import sys

    import cv2

    from tools.infer import main
    config, ckpt, _ = trained
    folder = tmp_path / 'in'
    folder.mkdir()
    shutil.copy(osp.join(synth_root, 'images', 'test', '000000.png'), folder / 'a.png')
    cv2.imwrite(str(folder / 'a.jpg'), cv2.imread(osp.join(synth_root, 'images', 'test', '000001.png')))
    out = tmp_path / 'out'
    monkeypatch.setattr(sys, 'argv', ['infer.py', str(folder), config, '--weights', ckpt, '--task', 'region-caption',
                                      '--region', '10,12,60,70', '--max-image-size', '64', '--out-dir', str(out)])
    main()
    preds = {n: json.load(open(out / 'preds' / f'{n}.json')) for n in ('a_png', 'a_jpg')}
    assert preds['a_png']['image'].endswith('a.png') and preds['a_jpg']['image'].endswith('a.jpg')
    pictures = [cv2.imread(str(out / 'vis' / f'{n}.png')) for n in ('a_png', 'a_jpg')]
    assert all(p is not None for p in pictures) and not np.array_equal(*pictures)
    assert not osp.exists(out / 'vis' / 'a.png')


def test_bad_regions_on_the_command_line(trained, synth_root, tmp_path, monkeypatch, capsys):
    """In process (no second interpreter): a point outside the image is refused naming the region; a region task
    without a region is refused before a model is built."""
    import argparse
    import sys

    from tools.infer import apply_task, main
    config, ckpt, _ = trained
    image = osp.join(synth_root, 'images', 'test', '000000.png')
    monkeypatch.setattr(sys, 'argv', ['infer.py', image, config, '--weights', ckpt, '--task', 'detect-by-example',
                                      '--point', '200,5', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        main()
    assert 'region 1: point (200, 5) is outside the 96x96 image' in capsys.readouterr().err
    args = argparse.Namespace(task='region-caption', texts=None, region=None, point=None, keypoints=None,
                              config=str(tmp_path / 'none.py'))
    with pytest.raises(SystemExit, match='needs visual prompts: --region'):
        apply_task(args)
    with pytest.raises(PromptError, match=r"--region '1,2,3': expected 4 comma-separated numbers"):
        from visionllm.apis.region_inference import parse_regions
        parse_regions(['1,2,3'])
    assert parse_regions(scribbles=['1,2;3,4']) == [dict(kind='scribble', points=[[1.0, 2.0], [3.0, 4.0]])]
    with pytest.raises(PromptError, match='--mask .*cannot read it'):
        parse_regions(masks=[str(tmp_path / 'missing.png')])


def test_region_tasks_from_python(trained, synth_root, tmp_path):
    from visionllm.apis import VisionLLMInferencer
    from visionllm.visualization import draw_region_prompts  # noqa: F401 (the pictures' drawing)
    config, ckpt, _ = trained
    inf = VisionLLMInferencer(config, ckpt)
    image = osp.join(synth_root, 'images', 'test', '000000.png')
    mask = np.zeros((96, 96), bool)
    mask[20:40, 30:60] = True
    regions = [dict(kind='box', box=[5, 5, 40, 40]), dict(kind='mask', mask=mask),
               dict(kind='scribble', points=[[50, 50], [60, 70]]), dict(kind='point', points=[[10, 10], [12, 20]])]
    cap = inf.region_caption(image, regions[:2], out_dir=str(tmp_path))
    assert isinstance(cap['text'], str) and cap['regions'][1] == dict(kind='mask', box=[30.0, 20.0, 60.0, 40.0])
    ex = inf.detect_by_example(image, regions, pred_score_thr=0.0)
    assert len(ex['counts']) == 4 and sum(ex['counts']) == len(ex['scores']) and 'region 1:' in ex['text']
    seg = inf.interactive_segment(image, regions)
    assert len(seg['scores']) <= 4 and len(set(seg['labels'])) == len(seg['labels'])  # one mask per region
    with pytest.raises(PromptError, match='region 2: degenerate box'):
        inf.interactive_segment(image, [regions[0], dict(kind='box', box=[30, 30, 30, 50])])
    with pytest.raises(PromptError, match='region 1: the mask is empty'):
        inf.detect_by_example(image, [dict(kind='mask', mask=np.zeros((96, 96), bool))])
    with pytest.raises(PromptError, match='9 regions given; this model takes at most 8'):
        inf.interactive_segment(image, [regions[0]] * 9)


def test_clicks_protocol(trained, tmp_path):
    config, ckpt, _ = trained
    r = run(['tools/test_clicks.py', config, ckpt, '--clicks', '3', '--max-objects', '2', '--out',
             str(tmp_path / 'clicks.json')])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    out = json.load(open(tmp_path / 'clicks.json'))
    assert out['objects'] == 2
    ious = [out[f'mIoU@{k}click'] for k in (1, 2, 3)]
    assert all(0.0 <= v <= 1.0 for v in ious)


def test_next_click_is_in_the_largest_miss():
    import sys
    sys.path.insert(0, osp.join(osp.dirname(__file__), '../../tools'))
    from test_clicks import next_click
    gt = np.zeros((30, 30), bool)
    gt[0:10, 0:10] = gt[15:30, 15:30] = True
    pred = np.zeros_like(gt)
    pred[0:10, 0:10] = True
    x, y = next_click(pred, gt)
    assert 15 <= x < 30 and 15 <= y < 30 and abs(x - 22.5) <= 1 and abs(y - 22.5) <= 1
    assert next_click(gt, gt) is None
