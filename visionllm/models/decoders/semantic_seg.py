"""Open-vocabulary semantic segmentation decoder (the ``seg`` family: [SEG]).

Mask classification with one class-conditioned mask query per prompted class: a Mask2Former pixel
decoder (mmdet's ``MSDeformAttnPixelDecoder``) over the decoder's own backbone gives per-pixel
embeddings [B, d, H/4, W/4]; each group's class embedding (an MLP of its query states, mean over the Q
queries) scores every pixel by a dot product; a softmax over the prompted classes gives the label
map, so any class list works. Losses: cross-entropy + dice (mmseg).
"""
import math
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmdet.models.layers import MLP
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample

from .base import BaseTaskDecoder
from .detection import group_by_sample

MASKED = -1e4


@MODELS.register_module()
class OVSemSegDecoder(BaseTaskDecoder):
    """Label every pixel with one of the prompted classes.

    Args:
        backbone / pixel_decoder: mmdet configs (the pixel decoder's ``in_channels`` match the
            backbone's outputs; its ``out_channels`` is the embedding width d).
        ignore_index: label of pixels without a prompted class (and of padding).
    """

    def __init__(self, backbone: dict, pixel_decoder: dict, condition_dims: int, routing_tokens, num_queries: int,
                 loss_ce: Optional[dict] = None, loss_dice: Optional[dict] = None, ignore_index: int = 255,
                 init_cfg=None):
        super().__init__(condition_dims, routing_tokens, num_queries, init_cfg)
        with DefaultScope.overwrite_default_scope('mmseg'):
            self.backbone = MODELS.build(ConfigDict(backbone))
            self.pixel_decoder = MODELS.build(ConfigDict(pixel_decoder))
            self.loss_ce = MODELS.build(loss_ce or dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False,
                                                        loss_weight=1.0, avg_non_ignore=True))
            self.loss_dice = MODELS.build(loss_dice or dict(type='mmseg.DiceLoss', use_sigmoid=False,
                                                            loss_weight=1.0, ignore_index=ignore_index))
        d = pixel_decoder['out_channels']
        self.condition_proj = MLP(condition_dims, d, d, 2)
        self.logit_scale = nn.Parameter(torch.tensor(-0.5 * math.log(d)))
        self.ignore_index = ignore_index

    def _logits(self, images: Tensor, conditions: TaskConditions, num_samples: int) -> Tensor:
        """Class logits [B, G_max, H, W] at input resolution (padded classes get a large negative)."""
        emb, mask, _ = group_by_sample(self.condition_proj(conditions.embeddings).mean(1), conditions, num_samples)
        pixel, _ = self.pixel_decoder(self.backbone(images))
        logits = torch.einsum('bgd,bdhw->bghw', emb, pixel) * self.logit_scale.exp()
        logits = logits.masked_fill(~mask[:, :, None, None], MASKED)
        return F.interpolate(logits, size=images.shape[-2:], mode='bilinear', align_corners=False)

    def loss(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
             data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        images = decoder_inputs['images']
        logits = self._logits(images, conditions, len(data_samples))
        H, W = images.shape[-2:]
        gt = torch.stack([F.pad(s.gt_sem_seg.data[0], (0, W - s.gt_sem_seg.data.shape[-1],
                                                        0, H - s.gt_sem_seg.data.shape[-2]),
                                value=self.ignore_index) for s in data_samples]).to(logits.device)
        return dict(loss_ce=self.loss_ce(logits, gt, ignore_index=self.ignore_index),
                    loss_dice=self.loss_dice(logits, gt))

    @torch.no_grad()
    def predict(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
                data_samples: List[VisionLLMDataSample], test_cfg: Optional[dict] = None
                ) -> List[VisionLLMDataSample]:
        """``pred_sem_seg``: [1, H, W] indices into each sample's prompted classes, original size."""
        self.call_test_cfg(test_cfg)  # no options: an unknown one is an error
        logits = self._logits(decoder_inputs['images'], conditions, len(data_samples))
        _, _, names = group_by_sample(conditions.embeddings[:, 0], conditions, len(data_samples))
        for b, s in enumerate(data_samples):
            h, w = s.metainfo['img_shape']
            lg = F.interpolate(logits[b:b + 1, :, :h, :w], size=s.metainfo['ori_shape'], mode='bilinear',
                               align_corners=False)[0]
            s.pred_sem_seg = PixelData(data=lg.argmax(0, keepdim=True))
            s.set_metainfo(dict(pred_class_names=names[b]))
        return data_samples
