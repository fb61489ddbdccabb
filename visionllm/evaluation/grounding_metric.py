"""Referring-expression grounding accuracy (top-1 box IoU >= threshold)."""
from typing import Dict, Optional, Sequence

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.evaluator import BaseMetric

from visionllm.registry import METRICS

from .sample_filter import selected


@METRICS.register_module()
class GroundingAccuracy(BaseMetric):
    """Fraction of grounding samples whose highest-scoring box overlaps the referred box with
    IoU >= ``iou_thr``, in original image coordinates: predictions are, and the referred box is the
    sample's ``ref_bbox`` (as the dataset read it), else its first ground-truth box taken as given.
    ``answer_mode``: only samples of that mode (``'prompted'`` / ``'free'``); None: both."""
    default_prefix = 'grounding'

    def __init__(self, iou_thr: float = 0.5, answer_mode: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.iou_thr, self.answer_mode = iou_thr, answer_mode

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'grounding' or not selected(s, self.answer_mode):
                continue
            if 'pred_instances' not in s:  # no routing token emitted (free mode): a miss
                self.results.append(0.0)
                continue
            pred, gt = s['pred_instances'], s.get('gt_instances')
            if len(pred['scores']) == 0:
                self.results.append(0.0)
                continue
            top = pred['bboxes'][pred['scores'].argmax()][None].cpu().float()
            ref = s.get('ref_bbox')  # the referred box as the dataset read it: original coordinates
            gt_box = torch.tensor([ref], dtype=torch.float32) if ref is not None else gt['bboxes'][:1].cpu().float()
            self.results.append(float(bbox_overlaps(top, gt_box)[0, 0] >= self.iou_thr))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        return dict(accuracy=float(torch.tensor(results).mean())) if results else {}
