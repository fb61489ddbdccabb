"""Every real-format config's test evaluator, run the way tools/test.py runs it (``Evaluator.process`` per batch
of the config's own test dataset, then ``evaluate(len(dataset))``), with the annotation files' ground truth given
as the predictions: every score is exactly perfect."""
import json
import os.path as osp
import pickle
from typing import Callable, Dict, List

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

from tests.conftest import REPO
from tests.real_data import write_ade20k, write_coco_instances, write_coco_keypoints, write_lvis, write_refcoco

CFG = 'configs/visionllm/visionllm_internvl-tiny_{}.py'


def _evaluate(config: str, options: dict, tmp_path, oracle: Callable) -> Dict[str, float]:
    """The config's test dataset and evaluator; ``oracle(data_sample)`` sets each sample's predictions."""
    from visionllm.apis.runner_utils import build_runner_cfg
    from visionllm.registry import DATASETS
    init_default_scope('visionllm')
    cfg = build_runner_cfg(osp.join(REPO, CFG.format(config)), options, work_dir=str(tmp_path / 'work'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    batch: List = []
    for i in range(len(dataset)):
        item = dataset[i]
        oracle(item['data_samples'])
        batch.append(item)
        if len(batch) == 2 or i == len(dataset) - 1:  # batches of 2
            evaluator.process([b['data_samples'] for b in batch], dict(inputs=[b['inputs'] for b in batch]))
            batch = []
    return evaluator.evaluate(len(dataset))


def _coco_oracle(ann_file: str, keypoints: bool = False) -> Callable:
    """Predictions = the file's non-crowd instances of the sample's prompted names (original coordinates;
    masks decoded by pycocotools, keypoints as annotated, every score 1)."""
    from pycocotools.coco import COCO
    coco = COCO(ann_file)
    names = {c['id']: c['name'] for c in coco.loadCats(coco.getCatIds())}

    def oracle(s):
        prompted = list(s.metainfo['class_names'])
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=[s.metainfo['img_id']]))
                if not a.get('iscrowd') and names[a['category_id']] in prompted]
        if keypoints:
            anns = [a for a in anns if a.get('num_keypoints')]
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)],
                             dtype=torch.float32).reshape(-1, 4)
        label_names = [names[a['category_id']] for a in anns]
        inst = InstanceData(bboxes=boxes, scores=torch.ones(len(anns)), label_names=label_names,
                            labels=torch.tensor([prompted.index(n) for n in label_names], dtype=torch.long))
        if not keypoints:
            inst.masks = torch.from_numpy(np.stack([coco.annToMask(a).astype(bool) for a in anns])) if anns else \
                torch.zeros(0, *s.metainfo['ori_shape'], dtype=torch.bool)
        s.pred_instances = inst
        if keypoints:
            order = coco.loadCats(anns[0]['category_id'])[0]['keypoints'] if anns else []
            wanted = list(s.metainfo['keypoint_names'])
            kps = np.array([a['keypoints'] for a in anns], np.float32).reshape(len(anns), -1, 3)
            pose = inst.clone()
            pose.keypoints = torch.from_numpy(kps[:, [order.index(n) for n in wanted], :2]).reshape(len(anns), -1, 2)
            pose.keypoint_scores = torch.ones(len(anns), len(wanted))
            s.pred_pose = pose
            s.set_metainfo(dict(pred_keypoint_names=wanted))
    return oracle


def test_coco_instances(tmp_path):
    ann = write_coco_instances(str(tmp_path / 'coco'))
    options = dict(data_root=str(tmp_path / 'coco') + '/', test_ann='annotations/instances.json', image_size=256)
    r = _evaluate('det_1xb8-2k_custom-coco', options, tmp_path, _coco_oracle(ann))
    # the slide holds ~200 nuclei and COCO's mAP keeps 100 detections per image; the other keys keep 1000
    for kind in ('bbox', 'segm'):
        assert all(r[f'det/{kind}_mAP_{k}'] == 1.0 for k in ('50', '75', 's', 'm', 'l')), r


def test_coco_keypoints_with_several_people(tmp_path):
    ann = write_coco_keypoints(str(tmp_path / 'kpt'), second_person=True)
    with open(ann) as f:
        assert sum(a['category_id'] == 1 and not a['iscrowd'] for a in json.load(f)['annotations']) == 2
    options = dict(data_root=str(tmp_path / 'kpt') + '/', test_ann='annotations/person_keypoints.json')
    r = _evaluate('det-pose_1xb8-2k_custom-cocokpt', options, tmp_path, _coco_oracle(ann, keypoints=True))
    assert r['pose/AP'] == 1.0 and r['pose/AR'] == 1.0, r
    assert r['pose_det/bbox_mAP'] == 1.0, r


def test_lvis(tmp_path):
    ann = write_lvis(str(tmp_path / 'lvis'))
    options = dict(data_root=str(tmp_path / 'lvis') + '/', test_ann='annotations/lvis_v1_val.json', image_size=256)
    r = _evaluate('det_1xb8-2k_lvis', options, tmp_path, _coco_oracle(ann))
    assert r['det/bbox_AP'] == 1.0 and r['det/segm_AP'] == 1.0, r


def test_refcoco(tmp_path):
    root = write_refcoco(str(tmp_path / 'refcoco_root'))
    with open(osp.join(root, 'refcoco', 'refs(unc).p'), 'rb') as f:
        refs = pickle.load(f)
    with open(osp.join(root, 'refcoco', 'instances.json')) as f:
        boxes = {a['id']: a['bbox'] for a in json.load(f)['annotations']}
    by_sentence = {t['sent']: boxes[r['ann_id']] for r in refs for t in r['sentences']}
    by_sentence.update({t['raw']: boxes[r['ann_id']] for r in refs for t in r['sentences']})

    def oracle(s):  # the referred object's box, found by the sentence the sample asks about
        question = s.metainfo['messages'][0]['content']
        x, y, w, h = next(b for t, b in sorted(by_sentence.items(), key=lambda kv: -len(kv[0])) if t in question)
        s.pred_instances = InstanceData(bboxes=torch.tensor([[x, y, x + w, y + h]]), scores=torch.ones(1),
                                        labels=torch.zeros(1, dtype=torch.long))
    r = _evaluate('det_1xb8-2k_refcoco', dict(data_root=root + '/', image_size=256), tmp_path, oracle)
    assert r['grounding/accuracy'] == 1.0, r


def _label_map_oracle(s):
    s.pred_sem_seg = PixelData(data=s.gt_sem_seg.data.clone())


def test_ade20k(tmp_path):
    from visionllm.datasets.semseg_dataset import _home_classes
    init_default_scope('visionllm')
    root = write_ade20k(str(tmp_path / 'ADEChallengeData2016'), _home_classes('mmseg.ADE20KDataset'))
    r = _evaluate('seg_1xb8-2k_ade20k', dict(data_root=root + '/', image_size=256), tmp_path, _label_map_oracle)
    assert r['seg/mIoU'] == 100.0, r


def test_png_label_maps(synth_root, tmp_path):
    """The custom-PNG layout (the embedded data is written in it)."""
    r = _evaluate('seg_1xb8-2k_custom-png', dict(data_root=synth_root + '/'), tmp_path, _label_map_oracle)
    assert r['seg/mIoU'] == 100.0, r


@pytest.mark.parametrize('config', ['det_1xb8-2k_synthetic'])
def test_embedded_data_detection(config, synth_root, tmp_path):
    ann = osp.join(synth_root, 'annotations/instances_test.json')
    r = _evaluate(config, dict(data_root=synth_root + '/'), tmp_path, _coco_oracle(ann))
    assert r['det/bbox_mAP'] == 1.0 and r['det/segm_mAP'] == 1.0, r
