"""Keypoint AP (OKS) with mmpose's COCO metric, for keypoints named by the prompt."""
import json
from typing import Dict, Optional, Sequence

import numpy as np
from mmpose.evaluation.metrics import CocoMetric as PoseCocoMetric

from visionllm.registry import METRICS


@METRICS.register_module()
class OVCocoKeypointMetric(PoseCocoMetric):
    """mmpose's CocoMetric for predictions whose keypoints follow each sample's prompted names.

    Predicted keypoints are reordered by name to the annotation file's keypoint list (names the prompt
    did not ask for get score 0); sigmas come from ``sigmas`` or a JSON file with ``keypoint_sigmas``
    (the synthetic ``meta.json``), default 0.05 each. Evaluates samples of task ``pose``. Instances are
    ranked by their detection score (``score_mode='bbox'``) without OKS-NMS unless configured.
    """
    default_prefix = 'pose'

    def __init__(self, ann_file: str, sigmas: Optional[Sequence[float]] = None, sigmas_file: Optional[str] = None,
                 category: Optional[str] = None, **kwargs):
        kwargs.setdefault('score_mode', 'bbox')
        kwargs.setdefault('nms_mode', 'none')
        super().__init__(ann_file=ann_file, **kwargs)
        cats = [c for c in self.coco.loadCats(self.coco.getCatIds()) if c.get('keypoints') and
                (category is None or c['name'] == category)]
        self.category = cats[0]
        self.keypoint_names = list(self.category['keypoints'])
        self.coco = _only_category(self.coco, self.category)  # other categories have no keypoints to score
        if sigmas_file:
            with open(sigmas_file) as f:
                sigmas = json.load(f).get('keypoint_sigmas', sigmas)
        sig = np.asarray(sigmas if sigmas is not None else [0.05] * len(self.keypoint_names), np.float32)
        self._pose_samples = 0
        self._meta = dict(dataset_name='visionllm', num_keypoints=len(self.keypoint_names), sigmas=sig,
                          CLASSES=[self.category])

    @property
    def dataset_meta(self) -> dict:
        return self._meta

    @dataset_meta.setter
    def dataset_meta(self, value) -> None:
        """Keypoint names and sigmas always come from the annotation / sigma files."""

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        K = len(self.keypoint_names)
        for s in data_samples:
            pred = s.get('pred_pose') or s.get('pred_instances') or {}
            if s.get('task') == 'pose':
                self._pose_samples += 1
            if s.get('task') != 'pose' or 'keypoints' not in pred:
                continue
            names = s.get('pred_keypoint_names') or s.get('keypoint_names')
            kps = np.zeros((len(pred['keypoints']), K, 2), np.float32)
            scores = np.zeros((len(pred['keypoints']), K), np.float32)
            src = pred['keypoints'].cpu().numpy()
            src_scores = pred['keypoint_scores'].cpu().numpy()
            for j, n in enumerate(names):
                if n in self.keypoint_names:
                    kps[:, self.keypoint_names.index(n)] = src[:, j]
                    scores[:, self.keypoint_names.index(n)] = src_scores[:, j]
            boxes = pred['bboxes'].cpu().numpy()
            box_scores = pred['scores'].cpu().numpy()
            start = len(self.results)
            for n in range(len(kps)):  # one entry per instance: mmpose de-duplicates results by `id`
                super().process(data_batch, [dict(
                    id=int(s['img_id']) * 100000 + n, img_id=s['img_id'], category_id=self.category['id'],
                    ori_shape=s['ori_shape'], gt_instances={},
                    pred_instances=dict(keypoints=kps[n:n + 1], keypoint_scores=scores[n:n + 1],
                                        bboxes=boxes[n:n + 1], bbox_scores=box_scores[n:n + 1]))])
            # one result per sample (its instances' entries together): mmengine keeps only the first
            # len(dataset) results when it collects them
            instances = self.results[start:]
            del self.results[start:]
            if instances:
                self.results.append(instances)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``results``: per sample, the list of its instances' entries."""
        seen, self._pose_samples = self._pose_samples, 0
        results = [r for sample in results for r in sample]
        if not results:
            if not seen:
                return {}
            # pose samples without a single detected instance (none above the pose decoder's score_thr): every
            # ground-truth person is missed, which is AP 0, not a missing number
            from mmengine.logging import print_log
            print_log(f'no keypoint predictions on {seen} pose samples: AP and AR are 0', logger='current',
                      level=30)
            return {k: 0.0 for k in ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
                                     'AR (L)')}
        return super().compute_metrics(results)


def _only_category(coco, category: dict):
    """A copy of an (xtcocotools) COCO index holding only ``category`` and its annotations: OKS evaluation reads
    every ground-truth annotation's keypoints, which the file's other categories do not have."""
    dataset = dict(coco.dataset, categories=[category],
                   annotations=[a for a in coco.dataset['annotations'] if a['category_id'] == category['id']])
    out = type(coco)()
    out.dataset = dataset
    out.createIndex()
    return out
