import torch

from visionllm.models.decoders.roi import RoIClassRefiner, expand_boxes, roi_grid


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


def test_refiner_starts_as_identity_and_learns_from_box_contents():
    ref = RoIClassRefiner((8, 16), 32, channels=8, roi_size=4, hidden_dims=16)
    hidden, boxes, feats = _inputs()
    out = ref(hidden, boxes, feats, [(64, 64), (48, 64)], (64, 64))
    assert out.shape == hidden.shape and torch.equal(out, hidden)
    out.pow(2).sum().backward()
    assert ref.mlp[-1].weight.grad.abs().sum() > 0  # the zero-initialised layer gets a gradient
    assert boxes.grad is None  # boxes are detached: the box regression is not pulled by classification
    torch.nn.init.normal_(ref.mlp[-1].weight)
    out = ref(hidden, boxes, feats, [(64, 64), (48, 64)], (64, 64))
    delta = out - hidden
    # box 0 has the same normalised coordinates in both images: different maps give different refinements,
    # and so do different boxes on one map
    assert not torch.allclose(delta[0, 0], delta[1, 0])
    assert not torch.allclose(delta[0, 0], delta[0, 1])
    out.sum().backward()
    assert feats[0].grad.abs().sum() > 0 and feats[1].grad.abs().sum() > 0
