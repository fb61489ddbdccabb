"""A task added from outside the package, as docs/adding_a_task.md describes: a foreground map ('[FG]').
This module is its decoder file (decoder, metric, drawing) and its task-spec entry; the test writes its config."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.structures import PixelData
from torch import Tensor, nn

from visionllm.models.decoders.base import BaseTaskDecoder
from visionllm.registry import FUNCTIONS, METRICS, MODELS, TASKS
from visionllm.structures import TaskConditions, TaskSpec, VisionLLMDataSample


@TASKS.register_module()
class ForegroundTask(TaskSpec):
    name, route, family = 'foreground', '[FG]', 'fg'
    prompt = 'Please mark the pixels of every {names} in the image.'
    gt_pixel_fields = {'gt_seg_map': ('gt_fg', 'int64')}  # the semantic map: foreground = not background (0)
    metrics = ('ForegroundIoU', )
    pred_fields = ('pred_fg', )
    draw = 'draw_foreground'


@MODELS.register_module()
class ForegroundDecoder(BaseTaskDecoder):
    """Per-pixel foreground logits of the decoder image, modulated by the group's query states."""

    def __init__(self, condition_dims: int, routing_tokens, num_queries: int, channels: int = 16, init_cfg=None):
        super().__init__(condition_dims, routing_tokens, num_queries, init_cfg)
        self.pixels = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(channels, channels, 3, padding=1))
        self.query = nn.Linear(condition_dims, channels)
        self.test_cfg: Dict = {}

    def _logits(self, images: Tensor, conditions: TaskConditions) -> Tensor:
        """images [B, 3, H, W] -> logits [G, H, W], one map per group."""
        feats = self.pixels(images)[conditions.batch_idx]
        return torch.einsum('gc,gchw->ghw', self.query(conditions.embeddings.mean(1)), feats)

    def loss(self, decoder_inputs, conditions, data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        logits = self._logits(decoder_inputs['images'], conditions)
        H, W = logits.shape[-2:]
        target = torch.full_like(logits, -1.0)
        for g, b in enumerate(conditions.batch_idx.tolist()):
            fg = data_samples[b].gt_fg.data[0]
            target[g, :fg.shape[0], :fg.shape[1]] = ((fg > 0) & (fg != 255)).float()
        valid = target >= 0
        return dict(loss_fg=F.binary_cross_entropy_with_logits(logits[valid], target[valid]))

    @torch.no_grad()
    def predict(self, decoder_inputs, conditions, data_samples: List[VisionLLMDataSample]):
        logits = self._logits(decoder_inputs['images'], conditions)
        for g, b in enumerate(conditions.batch_idx.tolist()):
            s = data_samples[b]
            h, w = s.metainfo['img_shape']
            m = F.interpolate(logits[g, :h, :w][None, None].float(), size=tuple(s.metainfo['ori_shape']),
                              mode='bilinear', align_corners=False)[0]
            s.pred_fg = PixelData(data=m > 0)
        return data_samples


@METRICS.register_module()
class ForegroundIoU(BaseMetric):
    """IoU of the predicted and true foreground over the test split's foreground samples."""
    default_prefix = 'fg'

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            if s.get('task') == 'foreground' and 'pred_fg' in s:
                pred, gt = s['pred_fg']['data'][0].cpu(), s['gt_fg']['data'][0].cpu()
                gt = F.interpolate(gt[None, None].float(), size=pred.shape, mode='nearest')[0, 0]
                true = (gt > 0) & (gt != 255)
                self.results.append(((pred & true).sum().item(), (pred | true).sum().item()))

    def compute_metrics(self, results) -> Dict[str, float]:
        return dict(IoU=sum(i for i, _ in results) / max(1, sum(u for _, u in results)))


@FUNCTIONS.register_module()
def draw_foreground(visualizer, image, sample):
    """The predicted foreground in magenta over the picture (RGB [H, W, 3] at the picture's size)."""
    import cv2
    import numpy as np
    fg = sample.pred_fg.data[0].cpu().numpy().astype(np.uint8)
    fg = cv2.resize(fg, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
    out = image.copy()
    out[fg] = (0.5 * out[fg] + 0.5 * np.array([255, 0, 255])).astype(np.uint8)
    return out
