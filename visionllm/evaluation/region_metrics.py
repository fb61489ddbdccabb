"""Metrics of the visual-prompt tasks: region recognition, interactive segmentation, counting by example."""
import json
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from visionllm.registry import METRICS

from .text_metrics import normalize_answer


def _held_out(held_out: Sequence[str], held_out_file: Optional[str]) -> set:
    names = set(held_out)
    if held_out_file:
        with open(held_out_file) as f:
            names |= set(json.load(f).get('held_out', []))
    return names


def answer_names(text: str) -> List[str]:
    """The names an answer lists (``'red circle, blue star.'`` -> ``['red circle', 'blue star']``), normalized."""
    return [normalize_answer(t) for t in (text or '').split(',') if t.strip()]


@METRICS.register_module()
class RegionRecognitionAccuracy(BaseMetric):
    """Share of regions whose name the answer gives (``region-caption``: the k-th name written for the k-th
    region, compared after :func:`normalize_answer`), overall and over seen / held-out names."""
    default_prefix = 'region'

    def __init__(self, held_out: Sequence[str] = (), held_out_file: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.held_out = _held_out(held_out, held_out_file)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'region-caption':
                continue
            said = answer_names(s.get('pred_text', ''))
            for k, name in enumerate(s['region_names']):
                self.results.append((name, float(k < len(said) and said[k] == normalize_answer(name))))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        out = {}
        for key, rows in (('accuracy', results), ('seen_accuracy', [r for r in results if r[0] not in self.held_out]),
                          ('unseen_accuracy', [r for r in results if r[0] in self.held_out])):
            if rows:
                out[key] = round(float(np.mean([r[1] for r in rows])), 4)
        return out


def decode_segmentation(seg, h: int, w: int) -> np.ndarray:
    """A COCO ``segmentation`` (polygons, RLE or uncompressed RLE) -> bool [h, w] (pycocotools)."""
    from pycocotools import mask as mask_utils
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    elif isinstance(seg.get('counts'), list):
        rle = mask_utils.frPyObjects(seg, h, w)
    else:
        rle = seg
    return mask_utils.decode(rle).astype(bool)


@METRICS.register_module()
class InteractiveSegMetric(BaseMetric):
    """Mean IoU of the prompted object's mask (``interactive-seg``): per region, the highest-scoring predicted
    mask of its group against the object's mask (``region_gt``, decoded from the annotation file's
    ``segmentation`` at the original size); reported per region kind (``box_mIoU`` is mIoU at 1 box,
    ``point_mIoU`` at 1 click) and over seen / held-out names."""
    default_prefix = 'interactive'

    def __init__(self, held_out: Sequence[str] = (), held_out_file: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.held_out = _held_out(held_out, held_out_file)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'interactive-seg':
                continue
            h, w = s['ori_shape']
            gt = decode_segmentation(s['region_gt'], h, w)
            pred = s.get('pred_instances') or {}
            iou = 0.0
            if len(pred.get('scores', ())):
                mine = pred['labels'] == 0
                if 'masks' not in pred:
                    raise ValueError('InteractiveSegMetric needs predicted masks: the detection decoder has no mask '
                                     'branch (mask_in_channels=None)')
                if mine.any():
                    k = int(torch.where(mine, pred['scores'], pred['scores'].new_tensor(-1.0)).argmax())
                    m = pred['masks'][k].cpu().numpy().astype(bool)
                    union = (m | gt).sum()
                    iou = float((m & gt).sum() / union) if union else 0.0
            self.results.append((s.get('region_kind', 'box'), s['region_names'][0], iou))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        out = {}
        by_kind = defaultdict(list)
        for kind, name, iou in results:
            by_kind[kind].append((name, iou))
        for kind, rows in sorted(by_kind.items()):
            out[f'{kind}_mIoU'] = round(float(np.mean([r[1] for r in rows])), 4)
            for split, keep in (('seen', lambda n: n not in self.held_out), ('unseen', lambda n: n in self.held_out)):
                part = [r[1] for r in rows if keep(r[0])]
                if part:
                    out[f'{kind}_{split}_mIoU'] = round(float(np.mean(part)), 4)
        return out


@METRICS.register_module()
class CountingMAE(BaseMetric):
    """Counting by example (``detect-by-example``): the count is the number of detections of the region's group
    scoring at least ``score_thr``; mean absolute error against the number of objects of the exemplar's
    category in the image (the sample's ground truth), overall and over seen / held-out names."""
    default_prefix = 'count'

    def __init__(self, score_thr: float = 0.3, held_out: Sequence[str] = (), held_out_file: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.score_thr = score_thr
        self.held_out = _held_out(held_out, held_out_file)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'detect-by-example':
                continue
            pred = s.get('pred_instances') or {}
            n = int(((pred['labels'] == 0) & (pred['scores'] >= self.score_thr)).sum()) if 'scores' in pred else 0
            self.results.append((s['region_names'][0], abs(n - len(s['gt_instances']['labels']))))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        out = {}
        for key, rows in (('MAE', results), ('seen_MAE', [r for r in results if r[0] not in self.held_out]),
                          ('unseen_MAE', [r for r in results if r[0] in self.held_out])):
            if rows:
                out[key] = round(float(np.mean([r[1] for r in rows])), 4)
        return out
