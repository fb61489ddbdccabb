"""The custom-COCO config end to end on a real-format fixture, through the README's overrides only."""
import json
import os.path as osp

import pytest

from tests.conftest import REPO
from tests.real_data import reorder_categories, write_coco_instances
from tests.tools.test_cli import run

CUSTOM_COCO = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_custom-coco.py'


def _loader_options(split: str) -> list:
    return [f'{split}.batch_size=2', f'{split}.num_workers=0', f'{split}.persistent_workers=False']


@pytest.fixture(scope='module')
def coco_run(tmp_path_factory, tokenizer_dir):
    """2 iterations (image_size 256) on slides with ~200 RLE nuclei, coins with polygons + a crowd, a cat."""
    root = str(tmp_path_factory.mktemp('real_coco'))
    write_coco_instances(root)
    work = osp.join(root, 'work')
    data = [f'data_root={root}/', 'train_ann=annotations/instances.json', 'val_ann=annotations/instances.json',
            'test_ann=annotations/instances.json', 'image_size=256', f'model.mllm.tokenizer.path={tokenizer_dir}']
    r = run(['tools/train.py', CUSTOM_COCO, '--work-dir', work, '--cfg-options', *data, 'train_cfg.max_iters=2',
             'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
             f'val_evaluator.0.outfile_prefix={root}/results_instances',  # validation of iter_2.pth's weights
             *_loader_options('train_dataloader'), *_loader_options('val_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    return root, work, data, r.stdout + r.stderr


def test_custom_coco_trains_and_validates_on_real_format(coco_run):
    _, work, _, log = coco_run
    assert 'Iter(train) [2/2]' in log and 'det.loss_mask' in log
    assert 'det/bbox_mAP' in log and 'det/segm_mAP' in log  # RLE and polygon masks both reach the metric
    assert osp.exists(osp.join(work, 'iter_2.pth'))


def test_category_order_of_the_file_does_not_change_predictions(coco_run):
    """The same checkpoint on the file and on a copy listing its categories in reverse order (validation at
    iteration 2, then tools/test.py): the same boxes under the same category ids."""
    root, work, data, train_log = coco_run
    reorder_categories(osp.join(root, 'annotations/instances.json'), osp.join(root, 'annotations/reordered.json'))
    prefix = osp.join(root, 'results_reordered')
    options = [o.replace('annotations/instances.json', 'annotations/reordered.json') for o in data]
    r = run(['tools/test.py', CUSTOM_COCO, osp.join(work, 'iter_2.pth'), '--work-dir', work,
             '--json-out', prefix + '_metrics.json', '--cfg-options', *options,
             f'test_evaluator.0.outfile_prefix={prefix}', *_loader_options('test_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    dumps = []
    for name in ('instances', 'reordered'):
        with open(osp.join(root, f'results_{name}.bbox.json')) as f:
            dumps.append(sorted((d['image_id'], d['category_id'], round(d['score'], 4),
                                 *(round(v, 1) for v in d['bbox'])) for d in json.load(f)))
    boxes, boxes2 = dumps
    assert len(boxes) > 0 and {b[1] for b in boxes} <= {3, 17} and {b[0] for b in boxes} <= {7, 101, 205}
    assert boxes == boxes2  # the same predictions under the same category ids
    import re
    validated = float(re.findall(r'det/bbox_mAP: ([\d.]+)', train_log)[-1])  # the same weights, the file's order
    with open(prefix + '_metrics.json') as f:
        assert json.load(f)['det/bbox_mAP'] == validated


ADE20K = 'configs/visionllm/visionllm_internvl-tiny_seg_1xb8-2k_ade20k.py'


def test_ade20k_config_trains_and_tests_in_mmseg_layout(tmp_path, tokenizer_dir):
    """mmseg's ADE20K layout, 150 names from mmseg, 0 = unlabelled: 2 iterations, then tools/test.py."""
    from mmengine.registry import init_default_scope

    from tests.real_data import write_ade20k
    from visionllm.datasets.semseg_dataset import _home_classes
    init_default_scope('visionllm')
    root = write_ade20k(str(tmp_path / 'ADEChallengeData2016'), _home_classes('mmseg.ADE20KDataset'))
    work = str(tmp_path / 'work')
    data = [f'data_root={root}/', 'image_size=256', f'model.mllm.tokenizer.path={tokenizer_dir}']
    r = run(['tools/train.py', ADE20K, '--work-dir', work, '--cfg-options', *data, 'train_cfg.max_iters=2',
             'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
             *_loader_options('train_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'Iter(train) [2/2]' in r.stdout + r.stderr
    out = str(tmp_path / 'metrics.json')
    r = run(['tools/test.py', ADE20K, osp.join(work, 'iter_2.pth'), '--work-dir', work, '--json-out', out,
             '--cfg-options', *data, *_loader_options('test_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        metrics = json.load(f)
    assert 0.0 <= metrics['seg/mIoU'] <= 100.0
    # the per-class table covers ADE's names, scored on the two classes present (table, plate)
    assert 'plate' in r.stdout and 'table' in r.stdout


LVIS = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_lvis.py'


def test_lvis_config_reads_lvis_and_tests_with_the_lvis_metric(coco_run, tmp_path, tokenizer_dir):
    """LVIS v1 format (coco_url paths, 40 names: two prompt chunks per image): its training samples, then
    tools/test.py (the custom-COCO run's checkpoint: the same model) with the lvis package's AP/APr/APc/APf."""
    from tests.real_data import write_lvis
    from visionllm.apis.runner_utils import build_runner_cfg
    from visionllm.registry import DATASETS
    root = str(tmp_path / 'coco')
    write_lvis(root)
    data = [f'data_root={root}/', 'train_ann=annotations/lvis_v1_val.json', 'val_ann=annotations/lvis_v1_val.json',
            'test_ann=annotations/lvis_v1_val.json', 'image_size=256', f'model.mllm.tokenizer.path={tokenizer_dir}']
    options = dict(o.split('=', 1) for o in data)
    cfg = build_runner_cfg(osp.join(REPO, LVIS), dict(options, image_size=256), work_dir=str(tmp_path))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    sample = train[0]['data_samples']
    assert sample.metainfo['img_path'].endswith('val2017/000000397133.jpg') and len(sample.gt_instances) > 0
    assert max(sample.metainfo['img_shape']) <= 256 * 1.25
    out = str(tmp_path / 'metrics.json')
    r = run(['tools/test.py', LVIS, osp.join(coco_run[1], 'iter_2.pth'), '--work-dir', str(tmp_path / 'work'),
             '--json-out', out, '--cfg-options', *data, *_loader_options('test_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        metrics = json.load(f)
    for key in ('bbox_AP', 'bbox_APr', 'bbox_APc', 'bbox_APf', 'segm_AP'):
        assert -1.0 <= metrics[f'det/{key}'] <= 1.0, key


REFCOCO = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_refcoco.py'


def test_refcoco_config_reads_mmdet_layout_and_scores_grounding(coco_run, tmp_path, tokenizer_dir):
    """instances.json + refs(unc).p: one sample per sentence (commas kept), tools/test.py's accuracy."""
    from tests.real_data import write_refcoco
    from visionllm.apis.runner_utils import build_runner_cfg
    from visionllm.registry import DATASETS
    root = write_refcoco(str(tmp_path / 'refcoco_root'))
    data = [f'data_root={root}/', f'model.mllm.tokenizer.path={tokenizer_dir}']
    cfg = build_runner_cfg(osp.join(REPO, REFCOCO), dict(dict(o.split('=', 1) for o in data), image_size=256),
                           work_dir=str(tmp_path))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) == 3  # 2 train refs, 3 sentences
    first = train[0]['data_samples']
    assert 'leftmost coin' in first.metainfo['messages'][0]['content'] and 'near the edge' in \
        first.metainfo['messages'][0]['content'] and len(first.gt_instances) == 1
    out = str(tmp_path / 'metrics.json')
    r = run(['tools/test.py', REFCOCO, osp.join(coco_run[1], 'iter_2.pth'), '--work-dir', str(tmp_path / 'work'),
             '--json-out', out, '--cfg-options', *data, 'image_size=256', *_loader_options('test_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        metrics = json.load(f)
    assert metrics['grounding/accuracy'] in (0.0, 0.5, 1.0)  # 2 testA sentences


COCO_KPT = 'configs/visionllm/visionllm_internvl-tiny_det-pose_1xb8-2k_custom-cocokpt.py'


def test_coco_keypoints_config_on_person_keypoints(tmp_path, tokenizer_dir):
    """COCO's 17 person keypoints (1-based skeleton, unlabelled (0, 0, 0) points, a crowd, a category without
    keypoints): 2 iterations through the documented overrides, then tools/test.py's keypoint AP."""
    from tests.real_data import write_coco_keypoints
    root = str(tmp_path / 'kpt')
    write_coco_keypoints(root)
    work = str(tmp_path / 'work')
    ann = 'annotations/person_keypoints.json'
    data = [f'data_root={root}/', f'train_ann={ann}', f'val_ann={ann}', f'test_ann={ann}',
            f'model.mllm.tokenizer.path={tokenizer_dir}']
    r = run(['tools/train.py', COCO_KPT, '--work-dir', work, '--cfg-options', *data, 'train_cfg.max_iters=2',
             'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
             *_loader_options('train_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'pose.loss' in r.stdout + r.stderr
    out = str(tmp_path / 'metrics.json')
    r = run(['tools/test.py', COCO_KPT, osp.join(work, 'iter_2.pth'), '--work-dir', work, '--json-out', out,
             '--cfg-options', *data, *_loader_options('test_dataloader')])
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        metrics = json.load(f)
    assert 0.0 <= metrics['pose/AP'] <= 1.0 and 'pose_det/bbox_mAP' in metrics  # AP 0, not absent, if no person
