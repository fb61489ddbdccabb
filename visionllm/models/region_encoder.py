"""Region encoder: visual prompts (region masks) -> embeddings of the LLM's ``<region>`` tokens."""
import math
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from visionllm.registry import MODELS

KIND_IDS = {'box': 0, 'point': 1, 'scribble': 2, 'mask': 3}


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True))


def box_encoding(boxes: Tensor, num_freqs: int) -> Tensor:
    """Sinusoidal encoding of normalized (x0, y0, x1, y1, area) [R, 5] -> [R, 5 * 2 * num_freqs]."""
    freqs = (2.0 ** torch.arange(num_freqs, device=boxes.device, dtype=boxes.dtype)) * math.pi
    x = boxes[..., None] * freqs
    return torch.cat([x.sin(), x.cos()], -1).flatten(1)


@MODELS.register_module()
class RegionEncoder(BaseModule):
    """Mask-pooled image features plus an encoding of the region's position, projected to the LLM's width.

    A light convolutional stem over the decoders' image (the same normalized [B, 3, H, W] batch) gives
    features at strides 4, 8 and 16; each region's mask [h, w] (at the resized image) is average-pooled into
    them (area weights, so a one-pixel click still counts), its box and area are encoded sinusoidally, and a
    learned embedding of its kind (box / point / scribble / mask) is added. The MLP's output is layer-normed
    with a gain initialised at the scale of token embeddings (``out_scale``).

    Args:
        out_dims: the LLM's width (set by the generalist).
        token: the placeholder token whose embeddings this encoder writes.
        channels: stem width at stride 4 (x2 at stride 8, x4 at stride 16).
        max_regions: regions one image may carry (more is a clear error at the inputs).
        num_freqs: frequencies of the position encoding.
        out_scale: initial gain of the output LayerNorm.
    """

    def __init__(self, out_dims: int, token: str = '<region>', channels: int = 32, max_regions: int = 8,
                 num_freqs: int = 6, out_scale: float = 0.02, init_cfg=None):
        super().__init__(init_cfg)
        self.token, self.max_regions, self.num_freqs = token, max_regions, num_freqs
        self.stem4 = nn.Sequential(_conv(3, channels), _conv(channels, channels))
        self.stem8 = _conv(channels, channels * 2)
        self.stem16 = _conv(channels * 2, channels * 4)
        pos_dims = 5 * 2 * num_freqs
        self.kind_embed = nn.Embedding(len(KIND_IDS), out_dims)
        self.mlp = nn.Sequential(nn.Linear(channels * 7 + pos_dims, out_dims), nn.GELU(), nn.Linear(out_dims, out_dims))
        self.norm = nn.LayerNorm(out_dims)
        nn.init.constant_(self.norm.weight, out_scale)

    def forward(self, images: Tensor, masks: Sequence[Tensor], kinds: Sequence[Sequence[str]]) -> List[Tensor]:
        """images [B, 3, H, W] (padded batch); masks: per sample bool [R_i, h_i, w_i] at its resized image
        (top-left of the padded one); kinds: per sample R_i kind names -> per sample [R_i, out_dims]."""
        f4 = self.stem4(images)
        f8 = self.stem8(f4)
        f16 = self.stem16(f8)
        H, W = images.shape[-2:]
        out = []
        for b, m in enumerate(masks):
            if m is None or len(m) == 0:
                out.append(f4.new_zeros(0, self.norm.normalized_shape[0]))
                continue
            m = m.to(f4.dtype)
            h, w = m.shape[-2:]
            full = F.pad(m, (0, W - w, 0, H - h))[:, None]  # [R, 1, H, W]
            pooled = [self._pool(f[b], full) for f in (f4, f8, f16)]
            ys, xs = full[:, 0].amax(2), full[:, 0].amax(1)  # [R, H], [R, W]
            boxes = torch.stack([_first(xs) / w, _first(ys) / h, _last(xs) / w, _last(ys) / h,
                                 m.flatten(1).mean(1)], 1)
            x = torch.cat(pooled + [box_encoding(boxes, self.num_freqs)], 1)
            kind = torch.tensor([KIND_IDS[k] for k in kinds[b]], device=images.device)
            out.append(self.norm(self.mlp(x) + self.kind_embed(kind)))
        return out

    @staticmethod
    def _pool(feat: Tensor, masks: Tensor) -> Tensor:
        """feat [C, h, w], masks [R, 1, H, W] -> area-weighted means [R, C]."""
        wts = F.adaptive_avg_pool2d(masks, feat.shape[-2:])[:, 0]  # [R, h, w]
        return torch.einsum('rhw,chw->rc', wts, feat) / wts.flatten(1).sum(1).clamp_min(1e-6)[:, None]


def _first(occupied: Tensor) -> Tensor:
    """[R, N] 0/1 -> index of the first 1 [R]."""
    n = occupied.shape[1]
    idx = torch.arange(n, device=occupied.device, dtype=occupied.dtype)
    return torch.where(occupied > 0, idx, torch.full_like(idx, n)).amin(1)


def _last(occupied: Tensor) -> Tensor:
    """[R, N] 0/1 -> one past the index of the last 1 [R]."""
    idx = torch.arange(1, occupied.shape[1] + 1, device=occupied.device, dtype=occupied.dtype)
    return (occupied * idx).amax(1)
