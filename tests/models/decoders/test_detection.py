import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from tests.conftest import REPO
from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample


@pytest.fixture(scope='module')
def decoder():
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.to_dict()
    cfg.update(max_classes=4, num_points=64)
    dec = MODELS.build(cfg, default_args=dict(condition_dims=32, routing_tokens=['[DET]'], num_queries=8))
    dec.init_weights()
    return dec


def _samples(n_gt=(2, 0), shape=(64, 64)):
    out = []
    for n in n_gt:
        s = VisionLLMDataSample(metainfo=dict(img_shape=shape, ori_shape=(shape[0] * 2, shape[1] * 2),
                                              batch_input_shape=shape, scale_factor=(0.5, 0.5),
                                              class_names=['a', 'b', 'c']))
        boxes = torch.tensor([[4., 4., 30., 30.], [20., 10., 60., 50.]])[:n]
        masks = torch.zeros(n, *shape, dtype=torch.bool)
        for k, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
            masks[k, y1:y2, x1:x2] = True
        s.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 2])[:n], masks=masks)
        out.append(s)
    return out


def _conds(groups_per_sample, dims=32):
    idx = torch.tensor([b for b, g in enumerate(groups_per_sample) for _ in range(g)])
    names = [f'class{k}' for b, g in enumerate(groups_per_sample) for k in range(g)]
    return TaskConditions(torch.randn(len(idx), 8, dims, requires_grad=True), idx, names, ['[DET]'] * len(idx),
                          torch.randn(len(idx), dims, requires_grad=True))


def test_loss_is_finite_and_reaches_conditions(decoder):
    decoder.train()
    conds = _conds([3, 3])
    losses = decoder.loss(dict(images=torch.randn(2, 3, 64, 64)), conds, _samples())
    for k in ('loss_cls', 'loss_bbox', 'loss_iou', 'dn_loss_cls', 'enc_loss_cls', 'loss_mask', 'loss_dice'):
        assert k in losses and torch.isfinite(losses[k]), k
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert conds.embeddings.grad is not None and conds.embeddings.grad.abs().sum() > 0
    # the name token embeddings reach the class embeddings (tiny config: name_embedding=True)
    assert conds.name_embeddings.grad is not None and conds.name_embeddings.grad.abs().sum() > 0
    # the tiny config's RoI class refiner is trained through the last layer's classification and through
    # its own loss on the ground-truth boxes (weight x cross-entropy over the 3 classes: weight x ln 3 while its
    # readout is zero; the config sets weight 2)
    assert decoder.roi_refiner.mlp[-1].weight.grad.abs().sum() > 0
    assert decoder.roi_refiner.gt_loss_weight == 2.0 and decoder.roi_refiner.gt_copies == 4
    assert torch.allclose(losses['loss_roi_gt'], 2.0 * torch.log(torch.tensor(3.0)))
    assert decoder.roi_refiner.cos_gain.grad is not None


def test_name_embeddings_add_a_name_term(decoder):
    """Class embedding = MLP(query states).mean + name_proj(name embedding): with equal query states,
    two groups' class embeddings differ exactly by the difference of their name terms."""
    conds = _conds([2])
    with torch.no_grad():
        conds.embeddings[1] = conds.embeddings[0]
        _, table, _ = decoder.class_features(conds, 1)
        named = decoder.name_proj(conds.name_embeddings)
        assert not torch.allclose(named[1], named[0])
        assert torch.allclose(table[1] - table[0], named[1] - named[0], atol=1e-5)
        # without name embeddings (e.g. a closed-set class table) the query states alone decide
        bare = TaskConditions(conds.embeddings, conds.batch_idx, conds.names, conds.tokens)
        _, table_bare, _ = decoder.class_features(bare, 1)
    assert torch.allclose(table_bare[0], table_bare[1])


def test_name_term_only_ignores_the_query_states():
    """slot_states=False (the ablation's 'name term only'): the class embeddings are a function of the name
    embeddings alone; the loss does not reach the query states; neither source at all is a config error."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.to_dict()
    cfg.update(max_classes=4, num_points=64, slot_states=False)
    dec = MODELS.build(cfg, default_args=dict(condition_dims=32, routing_tokens=['[DET]'], num_queries=8))
    assert dec.condition_proj is None
    conds = _conds([2])
    _, table, _ = dec.class_features(conds, 1)
    other = TaskConditions(torch.randn_like(conds.embeddings), conds.batch_idx, conds.names, conds.tokens,
                           conds.name_embeddings)
    assert torch.equal(dec.class_features(other, 1)[1], table)
    losses = dec.loss(dict(images=torch.randn(2, 3, 64, 64)), _conds([3, 3]), _samples())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    with pytest.raises(ValueError, match='name_embeddings'):
        dec.class_features(TaskConditions(conds.embeddings, conds.batch_idx, conds.names, conds.tokens), 1)
    from visionllm.utils.errors import ConfigError
    with pytest.raises(ConfigError, match='slot_states=True or name_embedding=True'):
        MODELS.build(dict(cfg, name_embedding=False),
                     default_args=dict(condition_dims=32, routing_tokens=['[DET]'], num_queries=8))


def test_box_only_samples_skip_the_mask_loss(decoder):
    """A sample without ground-truth masks (a box-only dataset) trains boxes; the mask loss uses the others."""
    decoder.train()
    samples = _samples((2, 2))
    del samples[1].gt_instances.masks
    losses = decoder.loss(dict(images=torch.randn(2, 3, 64, 64)), _conds([3, 3]), samples)
    assert torch.isfinite(losses['loss_mask']) and torch.isfinite(losses['loss_bbox'])


def test_more_groups_than_max_classes_is_a_clear_error(decoder):
    with pytest.raises(ValueError, match='5 groups, more than the detection decoder.s max_classes=4'):
        decoder.loss(dict(images=torch.randn(2, 3, 64, 64)), _conds([5, 2]), _samples())


def test_loss_rejects_group_count_mismatch(decoder):
    with pytest.raises(ValueError, match='3 class names but 2 routing groups'):
        decoder.loss(dict(images=torch.randn(2, 3, 64, 64)), _conds([2, 3]), _samples())


def test_predict_original_coordinates_and_chunking(decoder):
    decoder.eval()
    samples = _samples()
    conds = _conds([6, 1])  # 6 classes > max_classes=4: two chunks for sample 0
    out = decoder.predict(dict(images=torch.randn(2, 3, 64, 64)), conds, samples)
    p0, p1 = out[0].pred_instances, out[1].pred_instances
    assert len(p0) == 100 and len(p1) == 30  # 30 queries x 1 class
    assert set(p0.labels.tolist()) <= set(range(6)) and max(p0.labels.tolist()) >= 4
    assert p0.label_names[0] == f'class{int(p0.labels[0])}'
    assert p0.bboxes[:, 0::2].max() <= 128 and p0.bboxes[:, 1::2].max() <= 128  # ori_shape = 2 x img_shape
    assert p0.masks.shape[1:] == (128, 128) and p0.masks.dtype == torch.bool
    assert (p0.scores[:-1] >= p0.scores[1:]).all()


def test_masks_in_box_stay_inside_their_predicted_boxes(decoder):
    decoder.eval()
    s = _samples()[0]
    logits = torch.full((2, 16, 16), 5.0)  # masks that cover the whole image
    boxes = torch.tensor([[10.0, 20.0, 40.0, 30.0], [0.0, 0.0, 128.0, 128.0]])  # original pixels (128 x 128)
    whole = decoder._masks_at_original(logits, s)
    inside = decoder._masks_at_original(logits, s, boxes, max_floats=128 * 128)  # one mask per step
    assert whole.all()
    ys, xs = torch.nonzero(inside[0], as_tuple=True)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 39, 20, 29)
    assert inside[1].all() and inside.sum() == 30 * 10 + 128 * 128
