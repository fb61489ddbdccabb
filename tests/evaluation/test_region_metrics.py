"""Metrics of the visual-prompt tasks on hand-made predictions."""
import numpy as np
import torch
from pycocotools import mask as mask_utils

from visionllm.evaluation import CountingMAE, InteractiveSegMetric, RegionRecognitionAccuracy
from visionllm.evaluation.region_metrics import decode_segmentation


def _square(h, w, x0, y0, x1, y1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_interactive_iou_of_the_best_mask_per_region_kind():
    h, w = 20, 30
    gt = [[2.0, 2.0, 12.0, 2.0, 12.0, 12.0, 2.0, 12.0]]  # a COCO polygon: the square [2, 12) x [2, 12)
    assert decode_segmentation(gt, h, w).sum() == 100
    exact = torch.from_numpy(_square(h, w, 2, 2, 12, 12))
    half = torch.from_numpy(_square(h, w, 2, 2, 7, 12))  # IoU 0.5
    samples = [
        dict(task='interactive-seg', ori_shape=(h, w), region_gt=gt, region_kind='box', region_names=['red star'],
             pred_instances=dict(scores=torch.tensor([0.2, 0.9]), labels=torch.tensor([0, 0]),
                                 masks=torch.stack([half, exact]))),  # the best-scoring mask counts
        dict(task='interactive-seg', ori_shape=(h, w), region_gt=gt, region_kind='point', region_names=['purple star'],
             pred_instances=dict(scores=torch.tensor([0.8]), labels=torch.tensor([0]), masks=half[None])),
        dict(task='interactive-seg', ori_shape=(h, w), region_gt=gt, region_kind='point', region_names=['red star'],
             pred_instances=dict(scores=torch.zeros(0), labels=torch.zeros(0, dtype=torch.long),
                                 masks=torch.zeros(0, h, w, dtype=torch.bool))),  # nothing found: IoU 0
        dict(task='det'),
    ]
    metric = InteractiveSegMetric(held_out=['purple star'])
    metric.process(None, samples)
    out = metric.compute_metrics(metric.results)
    assert out['box_mIoU'] == 1.0 and out['point_mIoU'] == 0.25
    assert out['point_unseen_mIoU'] == 0.5 and out['point_seen_mIoU'] == 0.0


def test_interactive_gt_from_rle():
    m = _square(10, 10, 1, 1, 4, 4)
    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode()
    assert (decode_segmentation(rle, 10, 10) == m).all()


def test_region_recognition_reads_one_name_per_region():
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator([RegionRecognitionAccuracy(held_out=['orange circle'])])
    samples = [dict(task='region-caption', pred_text='Red circle.', region_names=['red circle']),
               dict(task='region-caption', pred_text='blue star, orange circle.',
                    region_names=['blue square', 'orange circle']),
               dict(task='region-caption', pred_text='', region_names=['orange circle'])]
    evaluator.process(samples[:2], {})  # as tools/test.py runs it: per batch, then evaluate(len(dataset))
    evaluator.process(samples[2:], {})
    out = evaluator.evaluate(len(samples))
    assert out == {'region/accuracy': 0.5, 'region/seen_accuracy': 0.5, 'region/unseen_accuracy': 0.5}
    perfect = Evaluator([RegionRecognitionAccuracy(held_out=['orange circle'])])
    perfect.process([dict(s, pred_text=', '.join(s['region_names'])) for s in samples], {})
    assert perfect.evaluate(len(samples))['region/accuracy'] == 1.0


def test_counting_mae_counts_detections_above_the_threshold():
    def sample(scores, n_gt, name='red circle'):
        return dict(task='detect-by-example', region_names=[name], gt_instances=dict(labels=torch.zeros(n_gt)),
                    pred_instances=dict(scores=torch.tensor(scores), labels=torch.zeros(len(scores), dtype=torch.long)))
    metric = CountingMAE(score_thr=0.5, held_out=['purple star'])
    metric.process(None, [sample([0.9, 0.6, 0.1], 2), sample([0.9], 3, 'purple star'), sample([0.7, 0.8], 1)])
    out = metric.compute_metrics(metric.results)
    assert out == dict(MAE=1.0, seen_MAE=0.5, unseen_MAE=2.0)
