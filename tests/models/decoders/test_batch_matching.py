import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from tests.conftest import REPO
from visionllm.models.decoders.batch_matching import (
    BatchHungarianAssigner,
    BatchMatchingGroundingDINOHead,
    xyxy_pixel_preds,
)
from visionllm.registry import MODELS

# mmdet's per-image classes (imported through ours: visionllm sets up mmcv before mmdet is imported)
HungarianAssigner = BatchHungarianAssigner.__bases__[0]
GroundingDINOHead = BatchMatchingGroundingDINOHead.__bases__[0]

COSTS = [dict(type='mmdet.BinaryFocalLossCost', weight=2.0),
         dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
         dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0)]


def _image(n_gt, n_cls, shape, C=6, width=8, nq=12):
    """Grounding-style inputs of one image: logits [nq, C] (-inf outside the prompt's n_cls classes, as
    the head gives them), xyxy pixel boxes, ground truths with one-hot positive maps [n_gt, width]."""
    h, w = shape
    scores = torch.randn(nq, C)
    scores[:, n_cls:] = float('-inf')
    xy = torch.rand(nq, 2) * torch.tensor([w, h]) * 0.7
    pred = InstanceData(scores=scores, bboxes=torch.cat([xy, xy + torch.rand(nq, 2) * 30 + 2], 1))
    gxy = torch.rand(n_gt, 2) * torch.tensor([w, h]) * 0.7
    labels = torch.randint(0, n_cls, (n_gt,))
    token_mask = (torch.arange(width) < n_cls)[None].repeat(n_gt, 1)
    gt = InstanceData(bboxes=torch.cat([gxy, gxy + torch.rand(n_gt, 2) * 30 + 2], 1), labels=labels,
                      positive_maps=torch.nn.functional.one_hot(labels, width).float(), text_token_mask=token_mask)
    return pred, gt, dict(img_shape=shape)


@pytest.mark.parametrize('shapes', [[(64, 64)] * 4, [(64, 64), (48, 80), (64, 64), (32, 40)]])
def test_batch_assignment_equals_mmdet_per_image(shapes):
    torch.manual_seed(0)
    inputs = [_image(n, c, s) for n, c, s in zip((3, 0, 5, 2), (4, 2, 6, 3), shapes)]
    preds, gts, metas = map(list, zip(*inputs))
    assigner = BatchHungarianAssigner(match_costs=COSTS)
    batch = assigner.assign_batch(preds, gts, metas)
    for p, g, m, r in zip(preds, gts, metas, batch):
        ref = HungarianAssigner.assign(assigner, p, g, m)
        assert r.num_gts == ref.num_gts
        assert torch.equal(r.gt_inds, ref.gt_inds) and torch.equal(r.labels, ref.labels)
    assert (batch[0].gt_inds > 0).sum() == 3 and (batch[1].gt_inds == 0).all()


def test_unused_precomputed_assignments_are_an_error():
    assigner = BatchHungarianAssigner(match_costs=COSTS)
    pred, gt, meta = _image(2, 3, (64, 64))
    with pytest.raises(RuntimeError, match='1 precomputed assignments were not used'):
        with assigner.precomputed(assigner.assign_batch([pred, pred], [gt, gt], [meta, meta])):
            assigner.assign(pred, gt, meta)


@pytest.fixture(scope='module')
def head():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.detector
    head_cfg = dict(cfg.bbox_head, contrastive_cfg=dict(cfg.bbox_head.contrastive_cfg, max_text_len=8),
                    train_cfg=cfg.train_cfg)
    return MODELS.build(head_cfg)


def test_head_targets_equal_mmdet_per_image_targets(head):
    """The tiny config's head: same labels, weights, box targets and counts as GroundingDINOHead's."""
    torch.manual_seed(1)
    inputs = [_image(n, c, (64, 64), C=8) for n, c in zip((3, 1, 0), (4, 2, 3))]
    preds, gts, metas = map(list, zip(*inputs))
    boxes = [torch.rand(12, 4) * 0.5 + 0.2 for _ in preds]  # normalised cxcywh, as the head predicts
    scores = [p.scores for p in preds]
    mine = head.get_targets(scores, boxes, gts, metas)
    ref = GroundingDINOHead.get_targets(head, scores, boxes, gts, metas)
    for a, b in zip(mine[:4], ref[:4]):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert mine[4:] == ref[4:] and mine[4] == 4
    # the same pixel boxes the head gives its assigner
    c, wh = boxes[0][0, :2], boxes[0][0, 2:]
    assert torch.allclose(xyxy_pixel_preds(scores, boxes, metas)[0].bboxes[0], torch.cat([c - wh / 2, c + wh / 2]) * 64)


def test_head_needs_the_batch_assigner():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.detector
    train_cfg = dict(assigner=dict(cfg.train_cfg.assigner, type='mmdet.HungarianAssigner'))
    head = MODELS.build(dict(cfg.bbox_head, contrastive_cfg=dict(cfg.bbox_head.contrastive_cfg, max_text_len=8),
                             train_cfg=train_cfg))
    pred, gt, meta = _image(1, 2, (64, 64), C=8)
    with pytest.raises(TypeError, match='visionllm.BatchHungarianAssigner'):
        head.get_targets([pred.scores], [torch.rand(12, 4)], [gt], [meta])


def test_decoder_losses_equal_those_with_mmdets_head_and_assigner():
    """The tiny detection decoder with the batched head, and with mmdet's GroundingDINOHead +
    HungarianAssigner (the mask loss then assigns image by image): same weights, same seed, same losses."""
    from tests.models.decoders.test_detection import _conds, _samples
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.to_dict()
    cfg.update(max_classes=4, num_points=64)
    mmdet_cfg = copy.deepcopy(cfg)
    mmdet_cfg['detector']['bbox_head']['type'] = 'mmdet.GroundingDINOHead'
    mmdet_cfg['detector']['train_cfg']['assigner']['type'] = 'mmdet.HungarianAssigner'
    args = dict(condition_dims=32, routing_tokens=['[DET]'], num_queries=8)
    torch.manual_seed(0)
    ours, theirs = MODELS.build(cfg, default_args=args), MODELS.build(mmdet_cfg, default_args=args)
    ours.init_weights()
    theirs.load_state_dict(ours.state_dict())
    assert type(theirs.detector.bbox_head) is GroundingDINOHead
    conds, images = _conds([3, 2]), torch.randn(2, 3, 64, 64)
    samples = _samples((2, 1))
    samples[1].set_metainfo(dict(class_names=['a', 'b']))
    losses = []
    for dec in (ours, theirs):
        torch.manual_seed(1)  # denoising queries and mask points are random
        losses.append(dec.train().loss(dict(images=images), conds, samples))
    assert losses[0].keys() == losses[1].keys() and 'loss_mask' in losses[0]
    for k in losses[0]:
        torch.testing.assert_close(losses[0][k], losses[1][k], rtol=0, atol=0, msg=k)
