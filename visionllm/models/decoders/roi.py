"""Box-pooled features for decoders: a pure-PyTorch RoI resampler (mmcv's RoIAlign needs compiled ops,
which the default install does not have) and the detection RoI class refiner."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from torch import Tensor, nn


def roi_grid(boxes: Tensor, size: int, image_hw) -> Tensor:
    """Sampling grid [N, size, size, 2] (grid_sample coordinates) covering xyxy pixel boxes [N, 4]."""
    t = (torch.arange(size, device=boxes.device, dtype=boxes.dtype) + 0.5) / size
    x = boxes[:, None, 0] + t[None] * (boxes[:, None, 2] - boxes[:, None, 0])
    y = boxes[:, None, 1] + t[None] * (boxes[:, None, 3] - boxes[:, None, 1])
    H, W = image_hw
    gx = (2 * x / W - 1)[:, None, :].expand(-1, size, -1)
    gy = (2 * y / H - 1)[:, :, None].expand(-1, -1, size)
    return torch.stack([gx, gy], -1)


def expand_boxes(boxes: Tensor, factor: float) -> Tensor:
    """Enlarge xyxy boxes [N, 4] by ``factor`` around their centres (sides at least 1 pixel)."""
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1) / 2 * factor
    return torch.cat([c - half, c + half], 1)


def resample_boxes(fmap: Tensor, boxes: Tensor, size: int, image_hw) -> Tensor:
    """fmap [B, C, h, w] covering the padded input ``image_hw``; xyxy pixel boxes [B, N, 4] -> RoI
    features [B, N, C, size, size]. One grid_sample per image (the boxes' rows stacked along the height),
    not one copy of the map per box."""
    B, N = boxes.shape[:2]
    grid = roi_grid(boxes.flatten(0, 1), size, image_hw).view(B, N * size, size, 2)
    rois = F.grid_sample(fmap, grid.to(fmap.dtype), align_corners=False)  # [B, C, N * size, size]
    return rois.view(B, -1, N, size, size).transpose(1, 2)


def merge_strides(lateral: nn.ModuleList, c4: Tensor, c8: Tensor) -> Tensor:
    """1x1 laterals of the stride-4 and stride-8 maps, the latter upsampled, summed: [B, c, H/4, W/4]."""
    up = F.interpolate(lateral[1](c8), size=c4.shape[-2:], mode='bilinear', align_corners=False)
    return lateral[0](c4) + up


def inbox_coords(n: int, size: int, like: Tensor) -> Tensor:
    """In-box (y, x) coordinates in [-1, 1]: [n, 2, size, size]."""
    t = torch.linspace(-1, 1, size, device=like.device, dtype=like.dtype)
    return torch.stack(torch.meshgrid(t, t, indexing='ij'))[None].expand(n, -1, -1, -1)


class RoIClassRefiner(nn.Module):
    """Adds what is inside each query's predicted box to its hidden state before classification.

    A DETR query classifies from a few deformable sampling points; the shape of an object is easier
    to read from the whole box. Backbone maps at strides 4 and 8 are summed (1x1 laterals) and passed
    through two 3x3 convs on the whole map (shared by all boxes, so the cost does not grow with the
    number of queries), resampled to R x R inside each (enlarged, detached) box, and a two-layer MLP of
    the flattened R x R grid (position-aware, like Faster R-CNN's box head) is added to the hidden state.
    Its last layer starts at zero, so training starts from the unrefined decoder.

    Args:
        in_channels: channels of the stride-4 and stride-8 backbone outputs.
        embed_dims: decoder width d.
        channels: width of the map convs.
        roi_size: R.
        hidden_dims: width of the MLP's hidden layer.
        box_expand: context factor around each box.
    """

    def __init__(self, in_channels: Sequence[int], embed_dims: int, channels: int = 32, roi_size: int = 8,
                 hidden_dims: int = 256, box_expand: float = 1.2):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in in_channels])
        self.convs = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(nn.Linear(channels * roi_size ** 2, hidden_dims), nn.ReLU(inplace=True),
                                 nn.Linear(hidden_dims, embed_dims))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        self.roi_size, self.box_expand = roi_size, box_expand

    def features(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """(stride-4 [B, C4, H/4, W/4], stride-8 [B, C8, H/8, W/8]) -> [B, c, H/4, W/4]."""
        return self.convs(merge_strides(self.lateral, *feats))

    def forward(self, hidden: Tensor, boxes: Tensor, feats: Tuple[Tensor, Tensor], img_shapes, batch_hw) -> Tensor:
        """hidden [B, N, d], boxes [B, N, 4] cxcywh normalised by each image's ``img_shape`` (h, w),
        ``batch_hw`` the padded input size -> refined hidden [B, N, d]."""
        wh = boxes.new_tensor([[w, h, w, h] for h, w in img_shapes]).float()[:, None]  # [B, 1, 4]
        xyxy = bbox_cxcywh_to_xyxy(boxes.detach().float()) * wh
        xyxy = expand_boxes(xyxy.flatten(0, 1), self.box_expand).view_as(xyxy)
        rois = resample_boxes(self.features(feats), xyxy, self.roi_size, batch_hw)  # [B, N, c, R, R]
        return hidden + self.mlp(rois.flatten(2)).to(hidden.dtype)
