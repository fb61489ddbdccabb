"""Box-pooled features for decoders: a pure-PyTorch RoI resampler (mmcv's RoIAlign needs compiled ops,
which the default install does not have) and the detection RoI class refiner."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence


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


def jittered_copies(boxes: Tensor, copies: int, jitter: float) -> Tensor:
    """xyxy boxes [B, n, 4] -> ``copies`` independently jittered copies [B, copies * n, 4] (copy-major): each
    side moves by up to ``jitter`` x the box's width (x sides) or height (y sides)."""
    boxes = boxes.repeat(1, copies, 1)
    size = (boxes[..., 2:] - boxes[..., :2]).repeat(1, 1, 2)
    return boxes + (torch.rand_like(boxes) * 2 - 1) * jitter * size


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
    the flattened R x R grid (position-aware, like Faster R-CNN's box head) gives the readout r that is
    added to the hidden state. Its last layer starts at zero, so training starts from the unrefined decoder.

    Trained only through the decoder's sigmoid focal loss the readout learns colour fast but shape slowly
    (``docs/design_notes.md``). With ``gt_loss_weight`` > 0 it is also trained directly: the readout of
    each of ``gt_copies`` jittered copies of every ground-truth box is classified by softmax cross-entropy
    over its sample's classes on cosine logits (readout and class embeddings L2-normalised, times
    ``temperature``; the decoder passes the class embeddings before the encoder's text layers, which keep
    names compositional). With ``cos_gain`` > 0 the same cosine logits of each query's readout, centred
    over the sample's classes, are added to its refined logits with a learnable gain (starting at ``cos_gain``).

    Args:
        in_channels: channels of the stride-4 and stride-8 backbone outputs.
        embed_dims: decoder width d.
        channels: width of the map convs.
        roi_size: R.
        hidden_dims: width of the MLP's hidden layer.
        box_expand: context factor around each box.
        gt_loss_weight: weight of the ground-truth-box cross-entropy (0: off).
        temperature: scale of the cosine logits.
        gt_jitter: ground-truth box sides move by up to this fraction of the box size.
        gt_copies: independently jittered copies of every ground-truth box in that loss.
        cos_gain: initial gain of the centred cosine logits in the refined logits (0: not added).
    """

    def __init__(self, in_channels: Sequence[int], embed_dims: int, channels: int = 32, roi_size: int = 8,
                 hidden_dims: int = 256, box_expand: float = 1.2, gt_loss_weight: float = 0.0,
                 temperature: float = 10.0, gt_jitter: float = 0.05, cos_gain: float = 0.0,
                 gt_copies: int = 1):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in in_channels])
        self.convs = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(nn.Linear(channels * roi_size ** 2, hidden_dims), nn.ReLU(inplace=True),
                                 nn.Linear(hidden_dims, embed_dims))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        self.cos_gain = nn.Parameter(torch.tensor(float(cos_gain))) if cos_gain else None
        self.roi_size, self.box_expand = roi_size, box_expand
        self.gt_loss_weight, self.temperature, self.gt_jitter = gt_loss_weight, temperature, gt_jitter
        if gt_copies < 1:
            raise ValueError(f'roi_refine.gt_copies must be >= 1, got {gt_copies}')
        self.gt_copies = gt_copies

    def features(self, feats: Tuple[Tensor, Tensor]) -> Tensor:
        """(stride-4 [B, C4, H/4, W/4], stride-8 [B, C8, H/8, W/8]) -> [B, c, H/4, W/4]."""
        return self.convs(merge_strides(self.lateral, *feats))

    def box_features(self, fmap: Tensor, xyxy: Tensor, batch_hw) -> Tensor:
        """fmap [B, c, H/4, W/4] (from :meth:`features`), xyxy pixel boxes [B, N, 4] -> the flattened R x R
        grids inside the enlarged boxes [B, N, c * R * R] (the MLP's input)."""
        xyxy = expand_boxes(xyxy.flatten(0, 1), self.box_expand).view_as(xyxy)
        return resample_boxes(fmap, xyxy, self.roi_size, batch_hw).flatten(2)

    def readout(self, fmap: Tensor, xyxy: Tensor, batch_hw) -> Tensor:
        """fmap [B, c, H/4, W/4] (from :meth:`features`), xyxy pixel boxes [B, N, 4] -> r [B, N, d]."""
        return self.mlp(self.box_features(fmap, xyxy, batch_hw))

    def forward(self, fmap: Tensor, boxes: Tensor, img_shapes, batch_hw) -> Tensor:
        """fmap [B, c, H/4, W/4], boxes [B, N, 4] cxcywh normalised by each image's ``img_shape`` (h, w),
        ``batch_hw`` the padded input size -> readout r [B, N, d] (the refined hidden state is hidden + r)."""
        wh = boxes.new_tensor([[w, h, w, h] for h, w in img_shapes]).float()[:, None]  # [B, 1, 4]
        return self.readout(fmap, bbox_cxcywh_to_xyxy(boxes.detach().float()) * wh, batch_hw)

    def cos_logits(self, r: Tensor, class_emb: Tensor, class_mask: Tensor) -> Tensor:
        """Readouts r [B, N, d], class embeddings [B, G, d], valid classes [B, G] -> temperature x cosine
        [B, N, G], zero at invalid classes. The readout's norm is smoothed (+0.01) so that r = 0 is harmless."""
        r = r * torch.rsqrt(r.pow(2).sum(-1, keepdim=True) + 1e-2)
        logits = torch.einsum('bnd,bgd->bng', r, F.normalize(class_emb.to(r.dtype), dim=-1)) * self.temperature
        return logits * class_mask[:, None].to(r.dtype)

    def centred_cos_logits(self, r: Tensor, class_emb: Tensor, class_mask: Tensor) -> Tensor:
        """:meth:`cos_logits` minus their mean over each sample's valid classes (zero at invalid ones): only
        the ranking between classes is added, not a change of every class's score."""
        c = self.cos_logits(r, class_emb, class_mask)
        valid = class_mask[:, None].to(c.dtype)
        return (c - c.sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp(min=1)) * valid

    def gt_loss(self, fmap: Tensor, gt_boxes: Sequence[Tensor], gt_labels: Sequence[Tensor], class_emb: Tensor,
                class_mask: Tensor, batch_hw) -> Tensor:
        """Cross-entropy of the ground-truth boxes' readouts over their sample's classes (x ``gt_loss_weight``).

        fmap [B, c, H/4, W/4]; per sample xyxy pixel boxes [n_b, 4] and label indices [n_b] (0 boxes allowed);
        class_emb [B, G, d] with valid classes class_mask [B, G]."""
        counts = torch.tensor([len(b) for b in gt_boxes], device=fmap.device)
        if not counts.any():  # no objects in the batch: a zero loss that keeps the graph connected
            return (fmap.sum() + sum(p.sum() for p in self.mlp.parameters())) * 0.0
        boxes = pad_sequence([b.float() for b in gt_boxes], batch_first=True)  # [B, n, 4], padding ignored below
        k = self.gt_copies
        valid = (torch.arange(boxes.shape[1], device=fmap.device)[None] < counts[:, None]).repeat(1, k)
        target = pad_sequence([y.to(fmap.device) for y in gt_labels], batch_first=True).repeat(1, k)
        boxes = jittered_copies(boxes, k, self.gt_jitter)  # [B, k * n, 4]
        # the MLP reads only the real boxes' grids [V, c * R * R], not the padding rows
        r = self.mlp(self.box_features(fmap, boxes, batch_hw)[valid])  # [V, d]
        b = valid.nonzero()[:, 0]
        logits = self.cos_logits(r[:, None], class_emb[b], class_mask[b])[:, 0]  # [V, G]
        logits = logits.masked_fill(~class_mask[b], float('-inf'))
        return F.cross_entropy(logits, target[valid]) * self.gt_loss_weight
