"""Where the mask loss looks: uncertain points over the image plus points around each object.

Mask2Former-style sampling (``get_uncertain_point_coords_with_randomness``) draws its points over the
whole image: an object covering a fraction ``f`` of it gets ``~ num_points * f`` of the random points and,
early in training, none of the uncertain ones. A 12 px nucleus in a 512 px slide (f ~ 4e-4) then gets no
point at all, the loss only ever sees background, and every predicted mask stays empty (mask AP exactly 0
while boxes are found). Drawing a share of the points inside each object's box, enlarged for context,
gives every object the same number of positive and nearby negative points whatever its size.
"""
import torch
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from torch import Tensor


def mask_loss_points(pred: Tensor, boxes: Tensor, num_points: int, oversample_ratio: float,
                     importance_sample_ratio: float, box_ratio: float = 0.0, box_scale: float = 2.0) -> Tensor:
    """Point coordinates [n, num_points, 2] (x, y in [0, 1] of the padded batch) for the mask loss.

    Args:
        pred: mask logits [n, 1, h, w] of the matched queries.
        boxes: their ground-truth boxes [n, 4] (x1, y1, x2, y2), normalised by the padded batch's (W, H).
        box_ratio: share of the points drawn uniformly inside each box scaled by ``box_scale`` about its
            centre (clipped to the image); 0 keeps Mask2Former's sampling.
    """
    n_box = int(round(num_points * box_ratio))
    coords = get_uncertain_point_coords_with_randomness(pred, None, num_points - n_box, oversample_ratio,
                                                        importance_sample_ratio) if n_box < num_points else None
    if n_box == 0:
        return coords
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * box_scale / 2
    lo, hi = (centre - half).clamp(0, 1), (centre + half).clamp(0, 1)
    u = torch.rand(len(boxes), n_box, 2, device=pred.device, dtype=pred.dtype)
    inside = lo[:, None] + u * (hi - lo)[:, None]
    return inside if coords is None else torch.cat([coords, inside], dim=1)
