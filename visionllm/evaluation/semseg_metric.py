"""Open-vocabulary mIoU (mmseg IoUMetric) with seen / held-out splits."""
import json
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmseg.evaluation import IoUMetric

from visionllm.evaluation.held_out import held_out_names
from visionllm.registry import METRICS


@METRICS.register_module()
class OVIoUMetric(IoUMetric):
    """mmseg's IoUMetric for label maps that index each sample's prompted classes.

    Prediction and ground truth are mapped by name to the dataset's classes (``classes_file`` JSON list
    or the dataset's metainfo). Adds ``mIoU_seen`` / ``mIoU_unseen`` over classes outside / inside
    ``held_out`` (names, or a JSON with a ``held_out`` list).
    """
    default_prefix = 'seg'

    def __init__(self, classes_file: Optional[str] = None, held_out: Sequence[str] = (),
                 held_out_file: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self._classes = None
        if classes_file:
            with open(classes_file) as f:
                self._classes = tuple(json.load(f))
        self.held_out = held_out_names(held_out, held_out_file)

    @property
    def dataset_meta(self) -> dict:
        return dict(classes=self._classes) if self._classes else self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, value) -> None:
        self._dataset_meta = value

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        classes = list(self.dataset_meta['classes'])
        keep = []
        for s in data_samples:
            if s.get('task') != 'semseg' or 'pred_sem_seg' not in s:
                continue
            lut = torch.full((256, ), self.ignore_index, dtype=torch.long)
            for i, n in enumerate(s['class_names']):
                if n in classes:
                    lut[i] = classes.index(n)
            pred = lut[s['pred_sem_seg']['data'].cpu().long().clamp(0, 255)]
            gt = lut[s['gt_sem_seg']['data'].cpu().long().clamp(0, 255)]
            gt[s['gt_sem_seg']['data'].cpu() == self.ignore_index] = self.ignore_index
            keep.append(dict(s, pred_sem_seg=dict(data=pred), gt_sem_seg=dict(data=gt)))
        if keep:
            super().process(data_batch, keep)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        out = super().compute_metrics(results)
        res = tuple(zip(*results))
        iou = (sum(res[0]) / sum(res[1])).numpy()  # per-class IoU from intersections / unions
        present = (sum(res[3]) > 0).numpy()
        classes = list(self.dataset_meta['classes'])
        for split, sel in (('seen', [c not in self.held_out for c in classes]),
                           ('unseen', [c in self.held_out for c in classes])):
            m = np.array(sel) & present
            if m.any():
                out[f'mIoU_{split}'] = round(float(np.nanmean(iou[m])) * 100, 2)
        return out
