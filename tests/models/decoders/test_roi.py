import pytest
import torch

from visionllm.models.decoders.roi import RoIClassRefiner, expand_boxes, jittered_copies, roi_grid


def test_roi_grid_covers_the_box():
    grid = roi_grid(torch.tensor([[0., 0., 64., 32.]]), 4, (64, 64))
    assert grid.shape == (1, 4, 4, 2)
    # x spans the full width, y the top half, at cell centres (grid_sample coordinates in [-1, 1])
    assert torch.allclose(grid[0, 0, :, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.allclose(grid[0, :, 0, 1], torch.tensor([-0.875, -0.625, -0.375, -0.125]))


def test_expand_boxes_keeps_centre():
    out = expand_boxes(torch.tensor([[10., 20., 30., 60.]]), 1.5)
    assert torch.allclose(out, torch.tensor([[5., 10., 35., 70.]]))


def _inputs(B=2, N=5):
    torch.manual_seed(0)
    feats = (torch.randn(B, 8, 16, 16, requires_grad=True), torch.randn(B, 16, 8, 8, requires_grad=True))
    boxes = torch.tensor([0.5, 0.5, 0.3, 0.3]).repeat(B, N, 1)
    boxes[:, 1:, :2] = torch.rand(B, N - 1, 2) * 0.6 + 0.2
    return torch.randn(B, N, 32, requires_grad=True), boxes.requires_grad_(), feats


def test_refiner_starts_at_zero_and_learns_from_box_contents():
    ref = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16)
    hidden, boxes, feats = _inputs()
    r = ref(ref.features(feats), boxes, [(64, 64), (48, 64)], (64, 64))
    assert r.shape == hidden.shape and not r.any()
    (hidden + r).pow(2).sum().backward()
    assert ref.mlp[-1].weight.grad.abs().sum() > 0  # the zero-initialised layer gets a gradient
    assert boxes.grad is None  # boxes are detached: the box regression is not pulled by classification
    torch.nn.init.normal_(ref.mlp[-1].weight)
    r = ref(ref.features(feats), boxes, [(64, 64), (48, 64)], (64, 64))
    # box 0 has the same normalised coordinates in both images: different maps give different readouts,
    # and so do different boxes on one map
    assert not torch.allclose(r[0, 0], r[1, 0])
    assert not torch.allclose(r[0, 0], r[0, 1])
    r.sum().backward()
    assert feats[0].grad.abs().sum() > 0 and feats[1].grad.abs().sum() > 0


def _classes():
    torch.manual_seed(1)
    emb = torch.randn(2, 4, 32)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    return emb, mask


def test_centred_cos_logits_rank_only_valid_classes():
    ref = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16, cos_gain=0.5)
    emb, mask = _classes()
    r = torch.randn(2, 5, 32)
    c = ref.cos_logits(r, emb, mask)
    cos = torch.nn.functional.cosine_similarity(r[:, :, None], emb[:, None], dim=-1)
    assert torch.allclose(c[mask[:, None].expand_as(c)], 10 * cos[mask[:, None].expand_as(c)], atol=1e-3)
    centred = ref.centred_cos_logits(r, emb, mask)
    assert not centred[~mask[:, None].expand_as(centred)].any()
    assert torch.allclose(centred.sum(-1), torch.zeros(2, 5), atol=1e-5)
    # the ranking among valid classes is the cosine's
    assert torch.equal(centred[0, :, :3].argmax(-1), cos[0, :, :3].argmax(-1))
    # a zero readout (the refiner at initialisation) gives zero logits and a finite gradient
    z = torch.zeros(1, 2, 32, requires_grad=True)
    out = ref.centred_cos_logits(z, emb[:1], mask[:1])
    assert not out.any()
    out[0, 0, 0].backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_gt_loss_is_cross_entropy_of_gt_box_readouts():
    ref = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16, gt_loss_weight=2.0, gt_jitter=0.0)
    _, _, feats = _inputs()
    emb, mask = _classes()
    fmap = ref.features(feats)
    boxes = [torch.tensor([[4., 4., 30., 30.], [20., 10., 60., 50.]]), torch.zeros(0, 4)]
    labels = [torch.tensor([2, 0]), torch.zeros(0, dtype=torch.long)]
    # at initialisation every readout is zero: uniform over the sample's 3 valid classes
    loss = ref.gt_loss(fmap, boxes, labels, emb, mask, (64, 64))
    assert torch.allclose(loss, 2.0 * torch.log(torch.tensor(3.0)))
    torch.nn.init.normal_(ref.mlp[-1].weight)
    loss = ref.gt_loss(fmap, boxes, labels, emb, mask, (64, 64))
    r = ref.readout(fmap[:1], boxes[0][None], (64, 64))[0]
    r = r * torch.rsqrt(r.pow(2).sum(-1, keepdim=True) + 1e-2)  # the documented smoothed norm
    logits = 10 * r @ torch.nn.functional.normalize(emb[0, :3], dim=-1).T
    expected = torch.nn.functional.cross_entropy(logits, labels[0])
    assert torch.allclose(loss, 2.0 * expected, atol=1e-3)
    loss.backward()
    assert feats[0].grad.abs().sum() > 0 and ref.mlp[0].weight.grad.abs().sum() > 0
    # no ground truth anywhere: a zero loss that still backpropagates
    empty = ref.gt_loss(fmap.detach(), [torch.zeros(0, 4)] * 2, [torch.zeros(0, dtype=torch.long)] * 2, emb, mask,
                        (64, 64))
    assert empty.item() == 0 and empty.requires_grad


def test_jittered_copies_are_independent_and_bounded():
    boxes = torch.tensor([[[10., 20., 30., 60.], [0., 0., 8., 4.]]])  # [1, 2, 4]
    out = jittered_copies(boxes, 3, 0.1)
    assert out.shape == (1, 6, 4)
    size = torch.tensor([[20., 40., 20., 40.], [8., 4., 8., 4.]]).repeat(3, 1)
    assert ((out[0] - boxes[0].repeat(3, 1)).abs() <= 0.1 * size + 1e-6).all()
    # copy-major order, and the copies of one box differ
    assert not torch.equal(out[0, 0], out[0, 2]) and not torch.equal(out[0, 2], out[0, 4])
    assert torch.equal(jittered_copies(boxes, 2, 0.0), boxes.repeat(1, 2, 1))


def test_gt_loss_copies_without_jitter_equal_one_copy():
    _, _, feats = _inputs()
    emb, mask = _classes()
    boxes = [torch.tensor([[4., 4., 30., 30.], [20., 10., 60., 50.]]), torch.tensor([[8., 8., 40., 24.]])]
    labels = [torch.tensor([2, 0]), torch.tensor([1])]
    torch.manual_seed(0)
    one = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16, gt_loss_weight=1.0, gt_jitter=0.0)
    torch.nn.init.normal_(one.mlp[-1].weight)
    three = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16, gt_loss_weight=1.0, gt_jitter=0.0,
                            gt_copies=3)
    three.load_state_dict(one.state_dict())
    fmap = one.features(feats)
    # each copy of a box counts once: identical copies give the one-copy mean
    assert torch.allclose(one.gt_loss(fmap, boxes, labels, emb, mask, (64, 64)),
                          three.gt_loss(fmap, boxes, labels, emb, mask, (64, 64)), atol=1e-5)
    with pytest.raises(ValueError, match='gt_copies'):
        RoIClassRefiner((8, 16), 32, gt_copies=0)
