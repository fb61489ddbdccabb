"""The mask loss's points reach small objects."""
import torch

from visionllm.models.decoders.mask_points import mask_loss_points


def _nuclei(n: int = 40, size: int = 512, side: int = 12):
    """n small square 'nuclei' [n, 1, size, size] and their normalised boxes [n, 4]."""
    g = torch.Generator().manual_seed(0)
    masks, boxes = torch.zeros(n, 1, size, size), []
    for i in range(n):
        x, y = (int(v) for v in torch.randint(0, size - side, (2,), generator=g))
        masks[i, 0, y:y + side, x:x + side] = 1
        boxes.append([x / size, y / size, (x + side) / size, (y + side) / size])
    return masks, torch.tensor(boxes)


def test_box_points_give_every_small_object_positive_points():
    from mmcv.ops import point_sample  # after visionllm, which provides mmcv.ops on mmcv-lite
    torch.manual_seed(0)
    masks, boxes = _nuclei()
    pred = torch.randn(len(masks), 1, 128, 128)  # untrained logits at stride 4
    whole = point_sample(masks, mask_loss_points(pred, boxes, 256, 3.0, 0.75)).squeeze(1)
    around = point_sample(masks, mask_loss_points(pred, boxes, 256, 3.0, 0.75, box_ratio=0.5)).squeeze(1)
    # Mask2Former's sampling: an object of 0.05 % of the image gets (almost) no positive point
    assert (whole > 0.5).sum(1).float().mean() < 1.0
    # half of the points inside the box enlarged 2x: ~1/4 of those are on the object, for every object
    pos = (around > 0.5).sum(1)
    assert pos.min() >= 10 and (around < 0.5).sum(1).min() >= 128
    points = mask_loss_points(pred, boxes, 256, 3.0, 0.75, box_ratio=1.0)
    assert points.shape == (len(masks), 256, 2) and points.min() >= 0 and points.max() <= 1
