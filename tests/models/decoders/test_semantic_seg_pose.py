import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from tests.conftest import REPO
from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample


def _build(name, key, **kw):
    cfg = Config.fromfile(osp.join(REPO, f'configs/_base_/models/{name}.py'))[key].to_dict()
    cfg.update(kw)
    m = MODELS.build(cfg, default_args=dict(condition_dims=32, routing_tokens=['[X]'], num_queries=8))
    m.init_weights()
    return m


def _conds(groups, names=None):
    idx = torch.tensor([b for b, g in enumerate(groups) for _ in range(g)])
    names = names or [f'n{k}' for k in range(len(idx))]
    return TaskConditions(torch.randn(len(idx), 8, 32, requires_grad=True), idx, names, ['[X]'] * len(idx))


def _meta(shape=(64, 64), ori=(64, 64), sf=(1.0, 1.0)):
    return dict(img_shape=shape, ori_shape=ori, batch_input_shape=shape, scale_factor=sf)


def test_semseg_loss_and_prediction():
    torch.manual_seed(0)
    dec = _build('seg_decoder_tiny', 'seg_decoder')
    samples = []
    for _ in range(2):
        s = VisionLLMDataSample(metainfo=_meta(ori=(96, 96), sf=(2 / 3, 2 / 3)))
        seg = torch.zeros(1, 64, 64, dtype=torch.long)
        seg[0, 10:30, 10:30] = 1
        seg[0, 40:, 40:] = 255  # ignore region
        s.gt_sem_seg = PixelData(data=seg)
        samples.append(s)
    conds = _conds([2, 3])
    losses = dec.loss(dict(images=torch.randn(2, 3, 64, 64)), conds, samples)
    assert set(losses) == {'loss_ce', 'loss_dice'} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert conds.embeddings.grad.abs().sum() > 0
    dec.eval()
    out = dec.predict(dict(images=torch.randn(2, 3, 64, 64)), _conds([2, 3]), samples)
    assert out[0].pred_sem_seg.data.shape == (1, 96, 96)
    assert out[0].pred_sem_seg.data.max() < 2 and out[1].pred_sem_seg.data.max() < 3
    assert out[1].pred_class_names == ['n2', 'n3', 'n4']


def test_pose_loss_and_prediction_on_detected_instances():
    torch.manual_seed(0)
    dec = _build('pose_decoder_tiny', 'pose_decoder')
    s = VisionLLMDataSample(metainfo=_meta())
    kps = torch.tensor([[[20., 10.], [20., 40.], [5., 25.]], [[50., 50.], [52., 60.], [45., 55.]]])
    s.gt_instances = InstanceData(bboxes=torch.tensor([[4., 8., 36., 42.], [40., 45., 60., 62.]]),
                                  labels=torch.zeros(2, dtype=torch.long), keypoints=kps,
                                  keypoints_visible=torch.tensor([[1., 1., 0.], [1., 1., 1.]]))
    names = ['top', 'bottom', 'left']
    losses = dec.loss(dict(images=torch.randn(1, 3, 64, 64)), _conds([3], names), [s])
    assert torch.isfinite(losses['loss_kpt']) and losses['loss_kpt'] > 0
    with pytest.raises(ValueError, match='3 keypoints in the annotation but 2'):
        dec.loss(dict(images=torch.randn(1, 3, 64, 64)), _conds([2]), [s])
    dec.eval()
    p = VisionLLMDataSample(metainfo=_meta(ori=(128, 128), sf=(0.5, 0.5)))
    p.pred_instances = InstanceData(bboxes=torch.tensor([[8., 16., 72., 84.], [0., 0., 10., 10.]]),
                                    scores=torch.tensor([0.9, 0.1]), labels=torch.zeros(2, dtype=torch.long))
    out = dec.predict(dict(images=torch.randn(1, 3, 64, 64)), _conds([3], names), [p])[0]
    assert len(out.pred_pose) == 1  # below score_thr dropped
    assert len(out.pred_instances) == 2 and 'keypoints' not in out.pred_instances  # the detections stay as they were
    kp = out.pred_pose.keypoints
    assert kp.shape == (1, 3, 2) and out.pred_pose.keypoint_scores.shape == (1, 3)
    # inside the (expanded) detected box, in original coordinates
    assert (kp[..., 0] >= 8 - 20).all() and (kp[..., 0] <= 72 + 20).all()
    assert out.pred_keypoint_names == names


def test_keypoints_of_a_box_at_the_border_stay_on_the_image():
    p = VisionLLMDataSample(metainfo=_meta(ori=(96, 80), sf=(0.8, 2 / 3)))
    p.pred_instances = InstanceData(bboxes=torch.tensor([[0., 0., 20., 24.], [60., 72., 80., 96.]]),
                                    scores=torch.tensor([0.9, 0.9]), labels=torch.zeros(2, dtype=torch.long))
    for seed in range(5):  # random heatmaps: their peaks fall past the image for some seeds
        torch.manual_seed(seed)
        dec = _build('pose_decoder_tiny', 'pose_decoder', box_expand=3.0).eval()  # the region reaches past the image
        pose = dec.predict(dict(images=torch.randn(1, 3, 64, 64)), _conds([8]), [p.clone()])[0].pred_pose
        kp = pose.keypoints
        assert kp.shape == (2, 8, 2) and (pose.keypoint_scores > 0).all()  # every instance decoded
        assert (kp >= 0).all() and (kp[..., 0] <= 80).all() and (kp[..., 1] <= 96).all()
