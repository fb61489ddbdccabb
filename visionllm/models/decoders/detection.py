"""Open-vocabulary detection + instance-mask decoder (the ``det`` family: [DET], [GRD]).

Grounding-DINO style (mmdet components): own image backbone, deformable encoder fused with the
class embeddings, DINO decoder with contrastive denoising, classification = dot product of object
queries and per-group class embeddings (an MLP of the group's query states, mean over the Q queries,
optionally plus a projection of the name's mean token embedding),
Hungarian matching, focal + L1 + GIoU losses. Optional RoI class refiner: the last layer's queries are
classified after adding features pooled inside their boxes. Mask branch: mask embeddings of the matched
queries dotted with a 1/4-resolution pixel-embedding map, BCE + dice on uncertainty-sampled points.
"""
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import point_sample
from mmdet.models.layers import MLP
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample
from visionllm.utils.errors import ConfigError

from .base import BaseTaskDecoder
from .batch_matching import xyxy_pixel_preds
from .local_averages import local_avg_factors
from .mask_points import mask_loss_points
from .roi import RoIClassRefiner


def group_by_sample(emb: Tensor, conditions: TaskConditions, num_samples: int):
    """Per-group rows [G, ...] -> (padded [B, G_max, ...], valid mask [B, G_max], names per sample),
    keeping each sample's groups in their order of appearance."""
    order = torch.sort(conditions.batch_idx, stable=True).indices
    per_sample: List[List[int]] = [[] for _ in range(num_samples)]
    for g in order.tolist():
        per_sample[int(conditions.batch_idx[g])].append(g)
    width = max(1, max(len(p) for p in per_sample))
    out = emb.new_zeros(num_samples, width, *emb.shape[1:])
    mask = torch.zeros(num_samples, width, dtype=torch.bool, device=emb.device)
    for b, groups in enumerate(per_sample):
        if groups:
            out[b, :len(groups)] = emb[groups]
            mask[b, :len(groups)] = True
    return out, mask, [[conditions.names[g] for g in groups] for groups in per_sample]


@MODELS.register_module()
class OVDetectionDecoder(BaseTaskDecoder):
    """Detect (and segment) any prompted classes from their super-link conditions.

    Args:
        detector: config of :class:`ConditionedGroundingDINO` (backbone with 4 output levels:
            stride 4 feeds the mask branch, strides 8-32 the neck).
        mask_in_channels: channels of the backbone's stride-4 output (None disables masks).
        roi_refine: kwargs of :class:`RoIClassRefiner` (``in_channels`` of the stride-4 and stride-8
            backbone outputs, ...); None disables it.
        name_embedding: add ``Linear(LayerNorm(.))`` of the group name's mean token embedding
            (``TaskConditions.name_embeddings``, when given) to each class embedding, so that names which
            share words share a component (e.g. every "... star") from the first step.
        slot_states: read the class embeddings from the LLM's hidden states at the group's query slots
            (the super-link). ``False`` (with ``name_embedding=True``) keeps only the name term: an
            ablation that measures what the LLM's states add.
        max_classes: classes per forward (contrastive width); longer lists are chunked at test time.
        num_points / oversample_ratio / importance_sample_ratio: mask-loss point sampling.
        mask_box_points: share of those points drawn around each object's box instead of over the whole
            image (``visionllm.models.decoders.mask_points``): needed when objects are small against the
            image (e.g. nuclei in a slide); 0 is Mask2Former's sampling.
        loss_mask / loss_dice: mmdet loss configs of the mask branch.
        test_cfg: ``max_per_img``, ``score_thr``, ``mask_thr``; ``mask_in_box=True`` keeps each mask inside its
            predicted box (as box-based instance segmenters do): with many small objects, masks early in
            training are broad blobs whose mask AP is 0 until they are cut to their boxes.
    """

    def __init__(self, detector: dict, condition_dims: int, routing_tokens, num_queries: int,
                 mask_in_channels: Optional[int] = 64, max_classes: int = 64, num_points: int = 784,
                 oversample_ratio: float = 3.0, importance_sample_ratio: float = 0.75, mask_box_points: float = 0.0,
                 loss_mask: Optional[dict] = None, loss_dice: Optional[dict] = None,
                 roi_refine: Optional[dict] = None, name_embedding: bool = False, slot_states: bool = True,
                 test_cfg: Optional[dict] = None, init_cfg=None):
        super().__init__(condition_dims, routing_tokens, num_queries, init_cfg)
        if not (slot_states or name_embedding):
            raise ConfigError('OVDetectionDecoder needs slot_states=True or name_embedding=True: with neither, '
                              'class embeddings have no input')
        detector = ConfigDict(detector)  # mmdet reads nested configs by attribute
        detector['bbox_head'] = dict(detector['bbox_head'], contrastive_cfg=dict(
            detector['bbox_head'].get('contrastive_cfg', {}), max_text_len=max_classes))
        with DefaultScope.overwrite_default_scope('mmdet'):
            self.detector = MODELS.build(ConfigDict(detector, type='visionllm.ConditionedGroundingDINO'))
            self.with_mask = mask_in_channels is not None
            if self.with_mask:
                self.loss_mask = MODELS.build(loss_mask or dict(
                    type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean', loss_weight=2.0))
                self.loss_dice = MODELS.build(loss_dice or dict(
                    type='mmdet.DiceLoss', use_sigmoid=True, activate=True, reduction='mean', naive_dice=True,
                    eps=1.0, loss_weight=2.0))
        d = self.detector.embed_dims
        self.max_classes = max_classes
        self.condition_proj = MLP(condition_dims, d, d, 2) if slot_states else None
        # token embeddings (std ~0.02 at init) are far smaller than the LLM's normed hidden states (~1)
        self.name_proj = nn.Sequential(nn.LayerNorm(condition_dims), nn.Linear(condition_dims, d)) \
            if name_embedding else None
        if self.with_mask:
            self.pixel_proj = nn.Conv2d(mask_in_channels, d, 1)
            self.memory_proj = nn.Conv2d(d, d, 1)
            self.mask_head = nn.Sequential(nn.Conv2d(d, d, 1), nn.GroupNorm(8, d), nn.ReLU(inplace=True),
                                           nn.Conv2d(d, d, 1))
            self.mask_embed = MLP(d, d, d, 3)
        self.roi_refiner = RoIClassRefiner(embed_dims=d, **roi_refine) if roi_refine else None
        self.num_points, self.oversample_ratio = num_points, oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.mask_box_points = mask_box_points
        self.test_cfg = dict(dict(max_per_img=100, score_thr=0.0, mask_thr=0.5, mask_in_box=False), **(test_cfg or {}))

    # ---- conditions -> "text" features --------------------------------------------------------------
    def class_features(self, conditions: TaskConditions, num_samples: int):
        """Returns (text_dict for the transformer, class table [G, d] in per-sample order, names per sample)."""
        emb = None
        if self.condition_proj is not None:
            emb = self.condition_proj(conditions.embeddings).mean(1)  # [G, d]
        if self.name_proj is not None and conditions.name_embeddings is not None:
            name = self.name_proj(conditions.name_embeddings.to(conditions.embeddings.dtype))
            emb = name if emb is None else emb + name
        if emb is None:
            raise ValueError('slot_states=False needs TaskConditions.name_embeddings (the LLM input embeddings '
                             'of the group names), which this model does not provide')
        embedded, mask, names = group_by_sample(emb, conditions, num_samples)
        width = embedded.shape[1]
        eye = torch.eye(width, dtype=torch.bool, device=emb.device)
        text = dict(embedded=embedded, text_token_mask=mask, masks=eye[None].repeat(num_samples, 1, 1))
        return text, embedded[mask], names

    def _backbone(self, images: Tensor) -> Tuple[Tuple[Tensor], Tuple[Tensor]]:
        """-> (neck levels at strides 8-32, backbone outputs at strides 4-32)."""
        feats = self.detector.backbone(images)
        return self.detector.neck(feats[1:]), feats

    def _head(self, head_in: Dict, feats: Tuple[Tensor], det_samples) -> Tuple[Tensor, Tensor]:
        """Per-layer class logits [L, B, N, C] and boxes [L, B, N, 4]; with the RoI refiner the last
        layer's logits are those of its refined hidden states (plus, with ``cos_gain``, its centred cosine
        logits against ``head_in['class_table']``, the class embeddings before the encoder: [B, G, d])."""
        head = self.detector.bbox_head
        hidden_states = head_in['hidden_states']
        with torch.autocast(hidden_states.device.type, enabled=False):  # box regression in fp32 under autocast
            cls_scores, bbox_preds = head(hidden_states.float(), [r.float() for r in head_in['references']],
                                          head_in['memory_text'].float(), head_in['text_token_mask'])
        if self.roi_refiner is None:
            return cls_scores, bbox_preds
        ref, hidden = self.roi_refiner, head_in['hidden_states'][-1]
        head_in['roi_features'] = fmap = ref.features(feats[:2])
        r = ref(fmap, bbox_preds[-1], [s.metainfo['img_shape'] for s in det_samples],
                det_samples[0].metainfo['batch_input_shape']).to(hidden.dtype)
        with torch.autocast(hidden.device.type, enabled=False):  # the last layer's logits in fp32 too
            hidden, r = hidden.float(), r.float()
            refined = head.cls_branches[-1](hidden + r, head_in['memory_text'].float(), head_in['text_token_mask'])
            if ref.cos_gain is not None:
                c = ref.centred_cos_logits(r, head_in['class_table'].float(), head_in['text_token_mask'])
                refined = refined + F.pad(ref.cos_gain * c, (0, refined.shape[-1] - c.shape[-1]))
        return torch.cat([cls_scores[:-1], refined[None]]), bbox_preds

    def _mask_features(self, c4: Tensor, enc_out: Dict) -> Tensor:
        """Pixel embeddings [B, d, H/4, W/4] from the stride-4 map and the stride-8 encoder memory."""
        h, w = enc_out['spatial_shapes'][0].tolist()
        mem = enc_out['memory'][:, :h * w].transpose(1, 2).reshape(c4.shape[0], -1, h, w)
        mem = F.interpolate(self.memory_proj(mem), size=c4.shape[-2:], mode='bilinear', align_corners=False)
        return self.mask_head(self.pixel_proj(c4) + mem)

    # ---- training -------------------------------------------------------------------------------------
    def loss(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
             data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        B = len(data_samples)
        text, table, names = self.class_features(conditions, B)
        det_samples = []
        offset = 0
        for b, s in enumerate(data_samples):
            n_cls = len(names[b])
            if n_cls > self.max_classes:
                raise ValueError(f'{s.get("img_path", b)}: the prompt has {n_cls} groups, more than the detection '
                                 f'decoder\'s max_classes={self.max_classes}; lower the prompt builder\'s max_classes '
                                 '(BuildDetectionConversation) or raise the decoder\'s')
            if s.get('class_names') is not None and len(s.class_names) != n_cls:
                raise ValueError(f'{s.get("img_path", b)}: {len(s.class_names)} class names but {n_cls} routing '
                                 'groups in the answer')
            gt = s.gt_instances
            labels = gt.labels.to(table.device)
            det_samples.append(VisionLLMDataSample(metainfo=s.metainfo, gt_instances=InstanceData(
                bboxes=gt.bboxes.to(table.device), labels=labels + offset,
                positive_maps=F.one_hot(labels, self.max_classes).float(),
                text_token_mask=text['text_token_mask'][b][None].repeat(len(labels), 1))))
            offset += n_cls
        self.detector.dn_query_generator.class_table = table
        mlvl, feats = self._backbone(decoder_inputs['images'])
        head_in, enc_out = self.detector.run_transformer(mlvl, text, det_samples)
        head = self.detector.bbox_head
        cls_scores, bbox_preds = self._head(head_in, feats, det_samples)
        head.text_masks = head_in['text_token_mask']
        gts = [s.gt_instances for s in det_samples]
        metas = [s.metainfo for s in det_samples]
        with local_avg_factors():  # a rank with no detection samples never reaches this all-reduce
            losses = head.loss_by_feat(cls_scores, bbox_preds, head_in['enc_outputs_class'],
                                       head_in['enc_outputs_coord'], gts, metas, head_in['dn_meta'])
        if self.roi_refiner is not None and self.roi_refiner.gt_loss_weight > 0:
            losses['loss_roi_gt'] = self.roi_refiner.gt_loss(
                head_in['roi_features'], [g.bboxes for g in gts], [s.gt_instances.labels for s in data_samples],
                head_in['class_table'], head_in['text_token_mask'], metas[0]['batch_input_shape'])
        if self.with_mask:
            losses.update(self._mask_loss(cls_scores, bbox_preds, head_in, enc_out, feats[0], det_samples,
                                          data_samples))
        return losses

    def _mask_loss(self, cls_scores, bbox_preds, head_in, enc_out, c4, det_samples, data_samples):
        head = self.detector.bbox_head
        num_dn = head_in['dn_meta']['num_denoising_queries'] if head_in.get('dn_meta') else 0
        cls_last, box_last = cls_scores[-1][:, num_dn:], bbox_preds[-1][:, num_dn:]
        hs_last = head_in['hidden_states'][-1][:, num_dn:]
        mask_feats = self._mask_features(c4, enc_out)
        batch = [b for b, (ds, s) in enumerate(zip(det_samples, data_samples))
                 if len(ds.gt_instances) and 'masks' in s.gt_instances]
        metas = [det_samples[b].metainfo for b in batch]
        with torch.no_grad():
            pred = xyxy_pixel_preds([cls_last[b] for b in batch], [box_last[b] for b in batch], metas)
            gts = [det_samples[b].gt_instances for b in batch]
            if hasattr(head.assigner, 'assign_batch'):
                assigns = head.assigner.assign_batch(pred, gts, metas)
            else:
                assigns = [head.assigner.assign(p, g, m) for p, g, m in zip(pred, gts, metas)]
        preds, targets, boxes = [], [], []
        H, W = metas[0]['batch_input_shape'] if metas else (1, 1)
        for b, assign in zip(batch, assigns):
            q = torch.nonzero(assign.gt_inds > 0).flatten()
            gt_idx = assign.gt_inds[q] - 1
            preds.append(torch.einsum('nd,dhw->nhw', self.mask_embed(hs_last[b, q]), mask_feats[b]))
            gm = data_samples[b].gt_instances.masks[gt_idx.cpu()].to(mask_feats.device).float()
            targets.append(F.pad(gm, (0, W - gm.shape[-1], 0, H - gm.shape[-2])))
            boxes.append(det_samples[b].gt_instances.bboxes[gt_idx] / mask_feats.new_tensor([W, H, W, H]))
        if not preds:
            zero = mask_feats.sum() * 0.0 + sum(p.sum() for p in self.mask_embed.parameters()) * 0.0
            return dict(loss_mask=zero, loss_dice=zero)
        pred, target = torch.cat(preds)[:, None], torch.cat(targets)[:, None]
        with torch.no_grad():
            points = mask_loss_points(pred, torch.cat(boxes).to(pred.dtype), self.num_points, self.oversample_ratio,
                                      self.importance_sample_ratio, self.mask_box_points)
            tgt_pts = point_sample(target, points).squeeze(1)
        pred_pts = point_sample(pred, points).squeeze(1)
        n = pred.shape[0]
        return dict(loss_mask=self.loss_mask(pred_pts.reshape(-1), tgt_pts.reshape(-1), avg_factor=n * self.num_points),
                    loss_dice=self.loss_dice(pred_pts, tgt_pts, avg_factor=n))

    # ---- inference ----------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
                data_samples: List[VisionLLMDataSample], test_cfg: Optional[dict] = None
                ) -> List[VisionLLMDataSample]:
        """Top-k over queries x classes; boxes (and masks) in original image coordinates.

        Class lists longer than ``max_classes`` run in chunks over the same image features.
        """
        cfg = self.call_test_cfg(test_cfg)
        B = len(data_samples)
        mlvl, feats = self._backbone(decoder_inputs['images'])
        counts = torch.bincount(conditions.batch_idx, minlength=B)
        order = torch.sort(conditions.batch_idx, stable=True).indices
        rank = torch.empty_like(order)
        start = torch.cumsum(counts, 0) - counts
        rank[order] = torch.arange(len(order), device=order.device) - start[conditions.batch_idx[order]]
        results: List[List[InstanceData]] = [[] for _ in range(B)]
        for chunk in range(math.ceil(max(int(counts.max()), 1) / self.max_classes)):
            sel = (rank >= chunk * self.max_classes) & (rank < (chunk + 1) * self.max_classes)
            if not sel.any():
                break
            conds = conditions.select(sel)
            text, _, per_sample = self.class_features(conds, B)
            det_samples = [VisionLLMDataSample(metainfo=s.metainfo) for s in data_samples]
            head_in, enc_out = self.detector.run_transformer(mlvl, text, det_samples)
            cls_scores, bbox_preds = self._head(head_in, feats, det_samples)
            mask_feats = self._mask_features(feats[0], enc_out) if self.with_mask else None
            for b, s in enumerate(data_samples):
                if per_sample[b]:
                    inst = self._postprocess(cls_scores[-1][b, :, :len(per_sample[b])], bbox_preds[-1][b],
                                             head_in['hidden_states'][-1][b], mask_feats, b, s, cfg)
                    inst.labels += chunk * self.max_classes
                    results[b].append(inst)
        names = group_by_sample(conditions.embeddings[:, 0], conditions, B)[2]
        for b, s in enumerate(data_samples):
            inst = InstanceData.cat(results[b]) if results[b] else self._empty(s)
            keep = inst.scores.argsort(descending=True)[:cfg['max_per_img']]
            inst = inst[keep]
            inst.label_names = [names[b][int(lbl)] for lbl in inst.labels]
            s.pred_instances = inst
        return data_samples

    def _empty(self, s) -> InstanceData:
        h, w = s.metainfo['ori_shape']
        dev = next(self.parameters()).device
        inst = InstanceData(bboxes=torch.zeros(0, 4, device=dev), scores=torch.zeros(0, device=dev),
                            labels=torch.zeros(0, dtype=torch.long, device=dev))
        if self.with_mask:
            inst.masks = torch.zeros(0, h, w, dtype=torch.bool, device=dev)
        return inst

    def _postprocess(self, logits: Tensor, boxes: Tensor, hidden: Tensor, mask_feats: Optional[Tensor],
                     b: int, s, cfg: dict) -> InstanceData:
        """logits [nq, G], boxes [nq, 4] cxcywh normalized, hidden [nq, d] -> InstanceData (orig coords)."""
        scores = logits.sigmoid()
        k = min(cfg['max_per_img'], scores.numel())
        top, idx = scores.flatten().topk(k)
        keep = top > cfg['score_thr']
        top, idx = top[keep], idx[keep]
        q, labels = idx // scores.shape[1], idx % scores.shape[1]
        h, w = s.metainfo['img_shape']
        xyxy = bbox_cxcywh_to_xyxy(boxes[q]) * boxes.new_tensor([w, h, w, h])
        xyxy[:, 0::2] = xyxy[:, 0::2].clamp(0, w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clamp(0, h)
        sf = s.metainfo.get('scale_factor', (1.0, 1.0))
        xyxy = xyxy / xyxy.new_tensor([sf[0], sf[1], sf[0], sf[1]])
        inst = InstanceData(bboxes=xyxy, scores=top, labels=labels)
        if mask_feats is not None:
            m = torch.einsum('nd,dhw->nhw', self.mask_embed(hidden[q]), mask_feats[b])
            inst.masks = self._masks_at_original(m, s, xyxy if cfg['mask_in_box'] else None, mask_thr=cfg['mask_thr'])
        return inst

    def _masks_at_original(self, logits: Tensor, s, boxes: Optional[Tensor] = None,
                           max_floats: int = 2 ** 25, mask_thr: Optional[float] = None) -> Tensor:
        """Mask logits [n, H/4, W/4] of the padded batch -> bool masks [n, oh, ow] of the original image
        (inside ``boxes`` [n, 4], x1 y1 x2 y2 in original pixels, when given).

        Upsampled (bilinear) and thresholded a few masks at a time, so that at most ``max_floats`` float
        values exist at once whatever the image size: memory is the bool output.
        """
        h, w = s.metainfo['img_shape']
        oh, ow = s.metainfo['ori_shape']
        H, W = s.metainfo['batch_input_shape']
        t = self.test_cfg['mask_thr'] if mask_thr is None else mask_thr
        thr = math.log(t / (1 - t))  # sigmoid(x) > t <=> x > logit(t)
        out = torch.zeros(len(logits), oh, ow, dtype=torch.bool, device=logits.device)
        step = max(1, max_floats // max(oh * ow, H * W))
        for i in range(0, len(logits), step):
            m = F.interpolate(logits[None, i:i + step], size=(H, W), mode='bilinear', align_corners=False)
            m = F.interpolate(m[:, :, :h, :w], size=(oh, ow), mode='bilinear', align_corners=False)
            out[i:i + step] = m[0] > thr
        if boxes is not None:
            ys = torch.arange(oh, device=out.device, dtype=boxes.dtype)[None, :, None] + 0.5
            xs = torch.arange(ow, device=out.device, dtype=boxes.dtype)[None, None, :] + 0.5
            b = boxes[:, :, None, None]
            for i in range(0, len(out), step):
                sl = slice(i, i + step)
                out[sl] &= (ys >= b[sl, 1]) & (ys <= b[sl, 3]) & (xs >= b[sl, 0]) & (xs <= b[sl, 2])
        return out
