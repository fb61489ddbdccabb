import os.path as osp

import numpy as np
import torch
from mmengine.structures import InstanceData
from pycocotools.coco import COCO

from visionllm.evaluation import CaptionObjectF1, OVCocoMetric, RoutingAccuracy, VQAAccuracy, parse_routes
from visionllm.structures import VisionLLMDataSample


def test_vqa_and_caption_metrics():
    m = VQAAccuracy()
    m.process({}, [dict(task='vqa', pred_text='Yes.', gt_answer='yes', question_type='exist'),
                   dict(task='vqa', pred_text='two', gt_answer='2', question_type='count'),
                   dict(task='caption', pred_text='x', gt_answer='y')])
    r = m.compute_metrics(m.results)
    assert r['accuracy'] == 0.5 and r['exist_accuracy'] == 1.0 and r['count_accuracy'] == 0.0
    c = CaptionObjectF1()
    c.process({}, [dict(task='caption', pred_text='A red circle and two blue stars.',
                        gt_answer='Two blue stars and a green cross.')])
    r = c.compute_metrics(c.results)
    assert abs(r['object_precision'] - 2 / 3) < 1e-6 and abs(r['object_recall'] - 2 / 3) < 1e-6


def test_routing_metric():
    assert parse_routes('Here are the results: red circle[DET], blue star[DET].', ['[DET]']) == \
        [('red circle', '[DET]'), ('blue star', '[DET]')]
    m = RoutingAccuracy()
    gt = [('red circle', '[DET]'), ('blue star', '[DET]')]
    good = 'Here are the results: red circle[DET], blue star[DET].'
    bad = 'Here are the results: red circle[DET], blue[SEG].'
    m.process({}, [dict(answer_mode='free', gt_groups=gt, pred_text=good),
                   dict(answer_mode='free', gt_groups=gt, pred_text=bad)])
    r = m.compute_metrics(m.results)
    assert r['sample_accuracy'] == 0.5 and r['token_accuracy'] == 0.5 and r['precision'] == 0.75


def _oracle_samples(ann_file, shuffle_names=True):
    """Predictions = ground truth, labelled through a per-sample (reversed) class list."""
    coco = COCO(ann_file)
    out = []
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        names = [coco.cats[a['category_id']]['name'] for a in anns]
        class_list = sorted(set(names), reverse=shuffle_names)
        boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
                              for a in anns]).reshape(-1, 4)
        masks = torch.from_numpy(np.stack([coco.annToMask(a) for a in anns]).astype(bool)) \
            if anns else torch.zeros(0, info['height'], info['width'], dtype=torch.bool)
        s = VisionLLMDataSample(metainfo=dict(img_id=img_id, ori_shape=(info['height'], info['width']), task='det',
                                              class_names=class_list, answer_mode='prompted'))
        s.pred_instances = InstanceData(bboxes=boxes, scores=torch.ones(len(anns)), masks=masks,
                                        labels=torch.tensor([class_list.index(n) for n in names], dtype=torch.long))
        out.append(s.to_dict())
    return out


def test_ov_coco_metric_oracle_is_perfect(synth_root):
    ann = osp.join(synth_root, 'annotations/instances_val.json')
    m = OVCocoMetric(ann_file=ann, metric=['bbox', 'segm'], held_out_file=osp.join(synth_root, 'meta.json'))
    m.dataset_meta = dict(classes=('ignored', ))
    m.process({}, _oracle_samples(ann))
    r = m.compute_metrics(m.results)
    assert r['bbox_mAP'] == 1.0 and r['segm_mAP'] == 1.0
    assert r['bbox_seen_mAP'] == 1.0
    # wrong names -> zero
    m2 = OVCocoMetric(ann_file=ann, metric=['bbox'])
    samples = _oracle_samples(ann)
    for s in samples:
        s['pred_instances']['label_names'] = ['purple star'] * len(s['pred_instances']['labels'])
    m2.process({}, samples)
    assert m2.compute_metrics(m2.results)['bbox_mAP'] < 0.2
