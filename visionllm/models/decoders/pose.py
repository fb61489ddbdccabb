"""Keypoint decoder (the ``pose`` family: [POSE]) on the instances of the detection groups.

The answer names the object (a detection group) and then the keypoints to find, each a group of its own:
``shape[DET], top[POSE], left[POSE]``. Keypoint names are text, so the set and order of keypoints is
chosen by the prompt. For each instance (ground-truth boxes in training, the detection decoder's boxes at
inference — decoders run in config order, detection first) the box region of a stride-4 feature map from
the decoder's own backbone is resampled to R x R (a pure-PyTorch RoI align), two box-relative coordinate
channels are appended (CoordConv: "top" / "left" are largely positions in the box, which convolutions
alone cannot see), and every keypoint's embedding (an MLP of its query states, mean over the Q queries)
is dotted with the pixel embeddings to give its heatmap. Targets / decoding: mmpose's MSRAHeatmap codec.
Loss: by default a cross-entropy between the softmax over the heatmap and the normalised Gaussian target
(a distribution over positions; it learns in hundreds of iterations where mmpose's per-pixel
KeypointMSELoss sits on its all-zero plateau), or ``loss=dict(type='mmpose.KeypointMSELoss', ...)``.
"""
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.models.layers import MLP
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample

from .base import BaseTaskDecoder
from .detection import group_by_sample
from .roi import expand_boxes, inbox_coords, merge_strides, resample_boxes


@MODELS.register_module()
class OVPoseDecoder(BaseTaskDecoder):
    """Heatmap keypoints for prompted keypoint names.

    Args:
        backbone: mmdet backbone config with at least 2 outputs (strides 4 and 8).
        in_channels: channels of those two outputs.
        embed_dims: width d of the pixel embeddings.
        roi_size: R, heatmap side per instance.
        box_expand: boxes are enlarged by this factor around their centre before resampling.
        coord_channels: append the (y, x) in-box coordinates in [-1, 1] to the RoI features.
        codec: mmpose codec config (gets ``input_size = heatmap_size = (R, R)``).
        loss: None for the spatial softmax cross-entropy, or an mmpose heatmap loss config.
        test_cfg: ``score_thr`` and ``max_instances`` of the detected instances used.
    """
    requires = ('det', )  # reads the detection decoder's instances

    def __init__(self, backbone: dict, condition_dims: int, routing_tokens, num_queries: int,
                 in_channels=(32, 64), embed_dims: int = 64, roi_size: int = 32, box_expand: float = 1.25,
                 coord_channels: bool = True, codec: Optional[dict] = None, loss: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, init_cfg=None):
        super().__init__(condition_dims, routing_tokens, num_queries, init_cfg)
        from mmpose.registry import KEYPOINT_CODECS
        with DefaultScope.overwrite_default_scope('mmpose'):
            self.backbone = MODELS.build(ConfigDict(backbone))
            self.loss_fn = MODELS.build(loss) if loss else None
            codec_cfg = dict(type='MSRAHeatmap', sigma=1.5)
            codec_cfg.update(codec or {}, input_size=(roi_size, roi_size), heatmap_size=(roi_size, roi_size))
            self.codec = KEYPOINT_CODECS.build(codec_cfg)
        d = embed_dims
        self.lateral = nn.ModuleList([nn.Conv2d(c, d, 1) for c in in_channels])
        self.coord_channels = coord_channels
        self.roi_head = nn.Sequential(nn.Conv2d(d + 2 * coord_channels, d, 3, padding=1), nn.GroupNorm(8, d),
                                      nn.ReLU(inplace=True),
                                      nn.Conv2d(d, d, 3, padding=1), nn.GroupNorm(8, d), nn.ReLU(inplace=True),
                                      nn.Conv2d(d, d, 1))
        self.condition_proj = MLP(condition_dims, d, d, 2)
        self.roi_size, self.box_expand = roi_size, box_expand
        self.test_cfg = dict(dict(score_thr=0.3, max_instances=20), **(test_cfg or {}))

    def _features(self, images: Tensor) -> Tensor:
        return merge_strides(self.lateral, *self.backbone(images)[:2])

    def _heatmaps(self, feats: Tensor, boxes: List[Tensor], kp_emb: Tensor, image_hw) -> Tensor:
        """Heatmaps [N, K_max, R, R] of all instances (boxes per sample, input pixel coordinates)."""
        rois, owner = [], []
        for b, bx in enumerate(boxes):
            if len(bx):
                rois.append(resample_boxes(feats[b:b + 1], expand_boxes(bx, self.box_expand)[None], self.roi_size,
                                           image_hw)[0])
                owner += [b] * len(bx)
        if not rois:
            return feats.new_zeros(0, kp_emb.shape[1], self.roi_size, self.roi_size)
        rois = torch.cat(rois)
        if self.coord_channels:
            rois = torch.cat([rois, inbox_coords(len(rois), self.roi_size, rois)], 1)
        pix = self.roi_head(rois)
        return torch.einsum('nkd,ndhw->nkhw', kp_emb[torch.tensor(owner, device=feats.device)], pix)

    def _keypoint_embeddings(self, conditions: TaskConditions, num_samples: int):
        return group_by_sample(self.condition_proj(conditions.embeddings).mean(1), conditions, num_samples)

    def loss(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
             data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        images = decoder_inputs['images']
        kp_emb, kp_mask, names = self._keypoint_embeddings(conditions, len(data_samples))
        boxes = [s.gt_instances.bboxes.to(images.device) for s in data_samples]
        heat = self._heatmaps(self._features(images), boxes, kp_emb, images.shape[-2:])
        targets, weights = [], []
        R = self.roi_size
        for b, s in enumerate(data_samples):
            kpts, vis = s.gt_instances.keypoints, s.gt_instances.keypoints_visible
            if kpts.shape[1] != len(names[b]):
                raise ValueError(f'{s.get("img_path", b)}: {kpts.shape[1]} keypoints in the annotation but '
                                 f'{len(names[b])} [POSE] groups in the answer')
            bx = expand_boxes(boxes[b], self.box_expand).cpu()
            for n in range(len(kpts)):
                scale = (bx[n, 2:] - bx[n, :2]) / R
                local = ((kpts[n] - bx[n, :2]) / scale).numpy()[None]
                enc = self.codec.encode(local, vis[n].numpy()[None])
                hm = np.zeros((kp_emb.shape[1], R, R), np.float32)
                w = np.zeros(kp_emb.shape[1], np.float32)
                hm[:len(names[b])], w[:len(names[b])] = enc['heatmaps'], enc['keypoint_weights'][0]
                targets.append(hm)
                weights.append(w)
        if not targets:
            return dict(loss_kpt=heat.sum() * 0.0 + kp_emb.sum() * 0.0)
        target = torch.from_numpy(np.stack(targets)).to(heat)
        weight = torch.from_numpy(np.stack(weights)).to(heat) * kp_mask[[b for b, s in enumerate(data_samples)
                                                                          for _ in range(len(boxes[b]))]]
        if self.loss_fn is not None:
            return dict(loss_kpt=self.loss_fn(heat, target, weight))
        dist = target.flatten(2)
        dist = dist / dist.sum(-1, keepdim=True).clamp(min=1e-6)
        ce = -(dist * F.log_softmax(heat.flatten(2), -1)).sum(-1)  # [N, K]
        return dict(loss_kpt=(ce * weight).sum() / weight.sum().clamp(min=1))

    @torch.no_grad()
    def predict(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
                data_samples: List[VisionLLMDataSample], test_cfg: Optional[dict] = None
                ) -> List[VisionLLMDataSample]:
        """``pred_pose``: the detected instances (``pred_instances``, written by the detection decoder:
        score >= ``score_thr``, at most ``max_instances``) with ``keypoints`` [N, K, 2] (original image
        coordinates, clipped to the image) and ``keypoint_scores`` [N, K]; ``pred_keypoint_names`` metainfo.
        ``pred_instances`` is left as the detection decoder wrote it."""
        cfg = self.call_test_cfg(test_cfg)
        images = decoder_inputs['images']
        kp_emb, _, names = self._keypoint_embeddings(conditions, len(data_samples))
        kept = []
        for s in data_samples:
            inst = s.pred_instances if 'pred_instances' in s else InstanceData(
                bboxes=images.new_zeros(0, 4), scores=images.new_zeros(0), labels=images.new_zeros(0).long())
            keep = (inst.scores >= cfg['score_thr']).nonzero().flatten()[:cfg['max_instances']]
            kept.append(inst[keep])
        boxes = []
        for s, inst in zip(data_samples, kept):  # predictions are in original coordinates -> input pixels
            sf = s.metainfo.get('scale_factor', (1.0, 1.0))
            boxes.append(inst.bboxes.to(images.device) * images.new_tensor([sf[0], sf[1], sf[0], sf[1]]))
        heat = self._heatmaps(self._features(images), boxes, kp_emb, images.shape[-2:])
        if self.loss_fn is None:  # scores: peak probability of the spatial softmax
            heat = heat.flatten(2).softmax(-1).view_as(heat)
        heat = heat.float().cpu().numpy()  # (bf16 under autocast)
        i = 0
        R = self.roi_size
        for b, (s, inst) in enumerate(zip(data_samples, kept)):
            K = len(names[b])
            kps = np.zeros((len(inst), K, 2), np.float32)
            scores = np.zeros((len(inst), K), np.float32)
            bx = expand_boxes(boxes[b], self.box_expand).cpu().numpy()
            sf = np.asarray(s.metainfo.get('scale_factor', (1.0, 1.0)), np.float32)
            for n in range(len(inst)):
                local, sc = self.codec.decode(heat[i][:K])
                kps[n] = (bx[n, :2] + local[0] * (bx[n, 2:] - bx[n, :2]) / R) / sf
                scores[n] = sc[0]
                i += 1
            if 'ori_shape' in s.metainfo:  # the expanded box may reach past the image: keypoints stay on it
                h, w = s.metainfo['ori_shape'][:2]
                np.clip(kps[..., 0], 0, w, out=kps[..., 0])
                np.clip(kps[..., 1], 0, h, out=kps[..., 1])
            inst.keypoints = torch.from_numpy(kps)
            inst.keypoint_scores = torch.from_numpy(scores)
            s.pred_pose = inst
            s.set_metainfo(dict(pred_keypoint_names=names[b]))
        return data_samples
