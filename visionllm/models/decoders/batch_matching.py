"""Hungarian matching for a whole batch with one call of each match cost.

mmdet's :class:`HungarianAssigner` computes its costs image by image: for a DETR head that is about
150 small tensor ops per image and decoder layer, which on a CPU cost more than the arithmetic. Here the
predictions and ground truths of all images are concatenated, each mmdet match cost runs once on the
[sum N, sum M] matrix, and scipy's ``linear_sum_assignment`` runs on each image's diagonal block. The
assignments are those of the per-image assigner: the off-diagonal blocks are never read, class columns
outside an image's prompt have -inf logits (zero focal cost), and boxes are compared in the images' own
pixel coordinates when all images share one size (else normalised, which leaves L1 and GIoU costs as they
are up to rounding).
"""
from contextlib import contextmanager
from typing import List

import torch
from mmdet.models.dense_heads import GroundingDINOHead
from mmdet.models.task_modules.assigners import AssignResult, HungarianAssigner
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment

from visionllm.registry import MODELS, TASK_UTILS


@TASK_UTILS.register_module()
class BatchHungarianAssigner(HungarianAssigner):
    """:class:`HungarianAssigner` with :meth:`assign_batch`; :meth:`precomputed` makes the next
    ``assign`` calls (mmdet's per-image target code) return given results in order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queue: List[AssignResult] = []

    def assign_batch(self, preds: List[InstanceData], gts: List[InstanceData], metas: List[dict]
                     ) -> List[AssignResult]:
        """Per image: ``scores`` [N_i, C] logits and xyxy pixel ``bboxes`` [N_i, 4]; ground truths with
        ``bboxes``, ``labels`` (and ``positive_maps`` / ``text_token_mask`` for grounding costs)."""
        busy = [i for i in range(len(preds)) if len(gts[i]) and len(preds[i])]
        out: List[AssignResult] = [None] * len(preds)
        for i in range(len(preds)):
            if i not in busy:  # no ground truths or no predictions: mmdet's assigner returns at once
                out[i] = super().assign(preds[i], gts[i], metas[i])
        if not busy:
            return out
        same_size = len({tuple(metas[i]['img_shape']) for i in busy}) == 1
        meta = metas[busy[0]] if same_size else dict(img_shape=(1, 1))

        def scale(i):
            h, w = metas[i]['img_shape']
            return preds[i].bboxes.new_tensor([w, h, w, h])

        scores = [preds[i].scores for i in busy]
        boxes = [preds[i].bboxes if same_size else preds[i].bboxes / scale(i) for i in busy]
        gt_boxes = [gts[i].bboxes if same_size else gts[i].bboxes / scale(i) for i in busy]
        parts = {'labels': torch.cat([gts[i].labels for i in busy])}
        if 'text_token_mask' in gts[busy[0]]:  # grounding costs: the columns of any image's prompt
            C = scores[0].shape[1]
            valid = torch.stack([gts[i].text_token_mask[0, :C].bool() for i in busy])  # [n, <= C]
            cols = valid.any(0).nonzero().flatten()
            # a class outside an image's prompt costs nothing for its predictions (-inf logit)
            scores = [s[:, cols].masked_fill(~v[cols], float('-inf')) for s, v in zip(scores, valid)]
            parts['positive_maps'] = torch.cat([gts[i].positive_maps[:, cols] for i in busy])
            parts['text_token_mask'] = valid.new_ones(len(parts['labels']), len(cols))
        pred_all = InstanceData(scores=torch.cat(scores), bboxes=torch.cat(boxes))
        gt_all = InstanceData(bboxes=torch.cat(gt_boxes), **parts)
        cost = sum(c(pred_instances=pred_all, gt_instances=gt_all, img_meta=meta) for c in self.match_costs)
        cost = cost.detach().cpu()
        r0 = c0 = 0
        for i in busy:
            n, m = len(preds[i]), len(gts[i])
            rows, cols = linear_sum_assignment(cost[r0:r0 + n, c0:c0 + m])
            r0, c0 = r0 + n, c0 + m
            device = gts[i].labels.device
            gt_inds = torch.zeros(n, dtype=torch.long, device=device)
            labels = torch.full((n,), -1, dtype=torch.long, device=device)
            rows, cols = torch.from_numpy(rows).to(device), torch.from_numpy(cols).to(device)
            gt_inds[rows] = cols + 1
            labels[rows] = gts[i].labels[cols]
            out[i] = AssignResult(num_gts=m, gt_inds=gt_inds, max_overlaps=None, labels=labels)
        return out

    @contextmanager
    def precomputed(self, results: List[AssignResult]):
        self._queue = list(results)
        try:
            yield
            if self._queue:
                raise RuntimeError(f'{len(self._queue)} precomputed assignments were not used')
        finally:
            self._queue = []

    def assign(self, pred_instances: InstanceData, gt_instances: InstanceData, img_meta=None, **kwargs
               ) -> AssignResult:
        if self._queue:
            return self._queue.pop(0)
        return super().assign(pred_instances, gt_instances, img_meta, **kwargs)


def xyxy_pixel_preds(cls_scores: List[torch.Tensor], bbox_preds: List[torch.Tensor], metas: List[dict]
                     ) -> List[InstanceData]:
    """Per image logits [N, C] and normalised cxcywh boxes [N, 4] -> InstanceData(scores, xyxy pixel
    bboxes), as mmdet's DETR heads give their assigner."""
    out = []
    for s, b, meta in zip(cls_scores, bbox_preds, metas):
        h, w = meta['img_shape']
        out.append(InstanceData(scores=s, bboxes=bbox_cxcywh_to_xyxy(b) * b.new_tensor([w, h, w, h])))
    return out


@MODELS.register_module()
class BatchMatchingGroundingDINOHead(GroundingDINOHead):
    """mmdet's GroundingDINOHead whose per-layer targets use one batched Hungarian matching
    (``train_cfg.assigner`` must be a :class:`BatchHungarianAssigner`)."""

    def get_targets(self, cls_scores_list, bbox_preds_list, batch_gt_instances, batch_img_metas) -> tuple:
        assigner = self.assigner
        if not isinstance(assigner, BatchHungarianAssigner):
            raise TypeError(f'{type(self).__name__} needs train_cfg.assigner of type '
                            f'visionllm.BatchHungarianAssigner, got {type(assigner).__name__}')
        with torch.no_grad():
            results = assigner.assign_batch(xyxy_pixel_preds(cls_scores_list, bbox_preds_list, batch_img_metas),
                                            batch_gt_instances, batch_img_metas)
        with assigner.precomputed(results):
            return super().get_targets(cls_scores_list, bbox_preds_list, batch_gt_instances, batch_img_metas)
