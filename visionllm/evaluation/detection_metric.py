"""Open-vocabulary COCO box / mask mAP (mmdet CocoMetric) with seen / held-out splits."""
import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmdet.evaluation import CocoMetric

from visionllm.evaluation.held_out import held_out_names
from visionllm.registry import METRICS

from .sample_filter import selected


class FileCategoriesMixin:
    """For mmdet's COCO-style metrics: the class list is the annotation file's (``self._classes``, set by
    the metric), and predictions are re-indexed into it by name (:func:`map_predicted_names`) for the
    samples of ``self.tasks`` / ``self.answer_mode``."""

    @property
    def dataset_meta(self) -> dict:
        return dict(classes=self._classes)

    @dataset_meta.setter
    def dataset_meta(self, value) -> None:
        """The class list always comes from the annotation file."""

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        keep = map_predicted_names(data_samples, {n: i for i, n in enumerate(self._classes)}, self.tasks,
                                   self.answer_mode, getattr(self, 'names_from', 'prediction'),
                                   getattr(self, 'phrasing', None))
        if keep:
            start = len(self.results)
            super().process(data_batch, keep)
            for (gt, _), s in zip(self.results[start:], keep):  # kept with the result: gathered over ranks
                gt['prompted'] = list(s.get('class_names') or [])


@METRICS.register_module()
class OVCocoMetric(FileCategoriesMixin, CocoMetric):
    """mmdet's CocoMetric for predictions whose labels index each sample's own class list.

    Predicted names (``pred_instances.label_names``, else ``class_names[label]``) are mapped to the
    annotation file's categories by name (unknown names are dropped); only images that were
    evaluated count. Besides mmdet's keys it reports ``{bbox,segm}_seen_mAP`` / ``_unseen_mAP``: the
    mean per-class AP over classes outside / inside ``held_out`` (names, or a JSON file with a
    ``held_out`` list such as the synthetic data's ``meta.json``).

    Args:
        answer_mode: evaluate samples of this answer mode (``prompted`` or ``free``).
        tasks: evaluate samples of these tasks (``det``; ``pose`` for the box AP of pose instances).
        names_from: ``'prediction'`` (the names the answer wrote) or ``'class_names'`` (the sample's
            ``class_names[label]``: e.g. the exemplar's category of ``detect-by-example``, whose group is named
            by a ``<region>`` token).
        phrasing: evaluate only samples whose request had this phrasing (``'default'``, ``'train'``,
            ``'held_out'``: ``BuildDetectionConversation(phrasing=...)``); None: all.
    """
    default_prefix = 'det'

    def __init__(self, ann_file: str, held_out: Sequence[str] = (), held_out_file: Optional[str] = None,
                 answer_mode: str = 'prompted', tasks: Sequence[str] = ('det', ), names_from: str = 'prediction',
                 phrasing: Optional[str] = None, **kwargs):
        super().__init__(ann_file=ann_file, **kwargs)
        self.phrasing = phrasing
        if names_from not in ('prediction', 'class_names'):
            raise ValueError(f"OVCocoMetric: names_from must be 'prediction' or 'class_names', got {names_from!r}")
        self.names_from = names_from
        if 'segm' in self.metrics and not any('segmentation' in a for a in self._coco_api.dataset['annotations']):
            from mmengine.logging import print_log
            print_log(f'{ann_file} has no instance masks (`segmentation`): mask AP is not computed', logger='current',
                      level=30)
            self.metrics = [m for m in self.metrics if m != 'segm']
        self.tasks = tuple(tasks)
        self.held_out = held_out_names(held_out, held_out_file)
        self.answer_mode = answer_mode
        # the file's category order: mmdet's CocoMetric maps label i to the i-th id of get_cat_ids(names)
        self._classes = tuple(c['name'] for c in self._coco_api.dataset['categories'])

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """mmdet's metrics over the file's categories that the evaluated samples prompted: a category no sample
        asked for (e.g. the other categories of a keypoint file, whose pose samples name one) is not scored."""
        self.img_ids = sorted({gt['img_id'] for gt, _ in results})
        prompted = {n.casefold() for gt, _ in results for n in gt.get('prompted', ())}
        subset = tuple(n for n in self._classes if n.casefold() in prompted)
        if not subset or len(subset) == len(self._classes):
            return self._compute(results)
        lut = np.full(len(self._classes), -1)
        lut[[self._classes.index(n) for n in subset]] = np.arange(len(subset))
        narrowed = []
        for gt, r in results:
            keep = lut[r['labels']] >= 0  # (names written for categories no sample prompted are dropped)
            r = dict(r, labels=lut[r['labels']])
            for k in ('bboxes', 'scores', 'labels', 'mask_scores'):
                if k in r:
                    r[k] = r[k][keep]
            if 'masks' in r:
                r['masks'] = [m for m, k in zip(r['masks'], keep) if k]
            narrowed.append((gt, r))
        classes, self._classes = self._classes, subset
        try:
            return self._compute(narrowed)
        finally:
            self._classes = classes

    def _compute(self, results: list) -> Dict[str, float]:
        metrics, out = list(self.metrics), {}
        has_masks = all('masks' in r for _, r in results)
        self.classwise = True
        try:
            for metric in metrics:
                if metric == 'segm' and not has_masks:
                    continue
                self.metrics = [metric]
                res = super().compute_metrics(results)
                per_class = {n: res.pop(f'{n}_precision') for n in self._classes if f'{n}_precision' in res}
                for split, names in (('seen', [n for n in per_class if n not in self.held_out]),
                                     ('unseen', [n for n in per_class if n in self.held_out])):
                    aps = [per_class[n] for n in names if not math.isnan(per_class[n])]
                    if aps:
                        res[f'{metric}_{split}_mAP'] = round(float(np.mean(aps)), 3)
                out.update(res)
        finally:
            self.metrics = metrics
        return out


def map_predicted_names(data_samples: Sequence[dict], index: Dict[str, int], tasks: Sequence[str],
                        answer_mode: str, names_from: str = 'prediction', phrasing: Optional[str] = None) -> list:
    """Samples of ``tasks`` / ``answer_mode`` with predicted labels re-indexed into the annotation file's
    category order by name (``index``: name -> position; a name that differs from a category only in case,
    e.g. ``person`` written for ``Person``, maps to it); names not in the file are dropped."""
    folded = {}
    for n, i in index.items():
        folded.setdefault(n.casefold(), i)
    index = dict({n: folded[n] for n in folded}, **index)
    keep = []
    for s in data_samples:
        if s.get('task') not in tasks or not selected(s, answer_mode, phrasing):
            continue
        if 'pred_instances' not in s:  # free mode and the LLM emitted no routing token: no detections
            h, w = s['ori_shape']
            s = dict(s, pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                            labels=torch.zeros(0, dtype=torch.long), label_names=[],
                                            masks=torch.zeros(0, h, w, dtype=torch.bool)))
        pred = dict(s['pred_instances'])
        names = pred.get('label_names') if names_from == 'prediction' else None
        if names is None:
            names = [s['class_names'][int(i)] for i in pred['labels']]
        names = [n if n in index else n.casefold() for n in names]
        ok = np.array([n in index for n in names], bool)
        pred['labels'] = pred['labels'].new_tensor([index[n] for n, k in zip(names, ok) if k])
        for k in ('bboxes', 'scores', 'masks'):
            if k in pred:
                pred[k] = pred[k][ok.tolist()] if len(ok) else pred[k][:0]
        keep.append(dict(s, pred_instances=pred))
    return keep
