"""Metrics of the visual-prompt tasks: region recognition, interactive segmentation, counting by example."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from visionllm.evaluation.held_out import held_out_names
from visionllm.registry import METRICS

from .text_metrics import normalize_answer


class HeldOutSplitMixin(BaseMetric):
    """A metric whose per-item values are also averaged over seen and held-out names (``held_out``: names, or
    a JSON file with a ``held_out`` list such as the synthetic data's ``meta.json``)."""

    def __init__(self, held_out: Sequence[str] = (), held_out_file: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.held_out = held_out_names(held_out, held_out_file)

    def split_means(self, rows: list, key: str, seen_key: str, unseen_key: str) -> Dict[str, float]:
        """Means of ``(name, value)`` rows overall and over seen / held-out names (splits without rows left out)."""
        out = {}
        for k, part in ((key, rows), (seen_key, [r for r in rows if r[0] not in self.held_out]),
                        (unseen_key, [r for r in rows if r[0] in self.held_out])):
            if part:
                out[k] = round(float(np.mean([r[1] for r in part])), 4)
        return out


def answer_names(text: str) -> List[str]:
    """The names an answer lists (``'red circle, blue star.'`` -> ``['red circle', 'blue star']``), normalized."""
    return [normalize_answer(t) for t in (text or '').split(',') if t.strip()]


@METRICS.register_module()
class RegionRecognitionAccuracy(HeldOutSplitMixin):
    """Share of regions whose name the answer gives (``region-caption``: the k-th name written for the k-th
    region, compared after :func:`normalize_answer`), overall and over seen / held-out names."""
    default_prefix = 'region'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'region-caption':
                continue
            said = answer_names(s.get('pred_text', ''))
            # one result per sample (mmengine keeps only the first len(dataset) results): its regions' scores
            self.results.append([(name, float(k < len(said) and said[k] == normalize_answer(name)))
                                 for k, name in enumerate(s['region_names'])])

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``results``: per sample, a (name, correct) pair per region."""
        return self.split_means([r for sample in results for r in sample], 'accuracy', 'seen_accuracy',
                                'unseen_accuracy')


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
class InteractiveSegMetric(HeldOutSplitMixin):
    """Mean IoU of the prompted object's mask (``interactive-seg``): per region, the highest-scoring predicted
    mask of its group against the object's mask (``region_gt``, decoded from the annotation file's
    ``segmentation`` at the original size); reported per region kind (``box_mIoU`` is mIoU at 1 box,
    ``point_mIoU`` at 1 click) and over seen / held-out names."""
    default_prefix = 'interactive'

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
            out.update(self.split_means(rows, f'{kind}_mIoU', f'{kind}_seen_mIoU', f'{kind}_unseen_mIoU'))
        return out


@METRICS.register_module()
class CountingMAE(HeldOutSplitMixin):
    """Counting by example (``detect-by-example``): the count is the number of detections of the region's group
    scoring at least ``score_thr``; mean absolute error against the number of objects of the exemplar's
    category in the image (the sample's ground truth), overall and over seen / held-out names."""
    default_prefix = 'count'

    def __init__(self, score_thr: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        self.score_thr = score_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s.get('task') != 'detect-by-example':
                continue
            pred = s.get('pred_instances') or {}
            n = int(((pred['labels'] == 0) & (pred['scores'] >= self.score_thr)).sum()) if 'scores' in pred else 0
            self.results.append((s['region_names'][0], abs(n - len(s['gt_instances']['labels']))))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        return self.split_means(results, 'MAE', 'seen_MAE', 'unseen_MAE')
