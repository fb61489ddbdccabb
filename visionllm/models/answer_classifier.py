"""Yardstick for the text answers without an LLM: a classifier over the generalist's own image path.

The vision tower + projector are built from the generalist's ``mllm`` config (same classes, sizes and
tokenizer); the question's token embeddings and the image tokens feed a small bidirectional transformer
whose first output picks one of the answers found in the training file (softmax), instead of an LLM
writing the answer. With ``backbone`` (e.g. the detection decoder's ResNet) the image tokens are its last
feature map on the decoders' input image instead (one token per cell, projected to the width). With
``region_encoder`` (the generalist's :class:`RegionEncoder`) the visual prompts' embeddings join the sequence
and the classes are the names of a COCO file's categories: region recognition (``region-caption``).
Trained on the same dataloader and schedule as the LLM's config: samples of other tasks pass through
untouched, so it answers only closed questions.
"""
import json
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from visionllm.registry import MODELS
from visionllm.structures import VisionLLMDataSample
from visionllm.utils.errors import DataFormatError

from .decoder_only import SkipEmptyBatches


def read_answers(files: Union[str, Sequence[str]]) -> List[str]:
    """Sorted distinct final assistant turns of LLaVA-style JSONL files (a ``.json`` file: the names of its
    COCO ``categories``)."""
    answers = set()
    for path in [files] if isinstance(files, str) else files:
        if path.endswith('.json'):
            with open(path) as f:
                cats = json.load(f).get('categories')
            if not isinstance(cats, list) or not all(isinstance(c, dict) and 'name' in c for c in cats):
                raise DataFormatError(f'{path}: `categories` must be a list of {{"id", "name"}} (COCO format)')
            answers.update(c['name'] for c in cats)
            continue
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                turns = json.loads(line).get('conversations') or []
                if not turns or turns[-1].get('from') not in ('gpt', 'assistant'):
                    raise DataFormatError(f'{path}:{n}: `conversations` must end with an assistant turn')
                answers.add(turns[-1]['value'].strip())
    if not answers:
        raise DataFormatError(f'{files}: no answers found (LLaVA-style JSONL expected)')
    return sorted(answers)


@MODELS.register_module()
class AnswerClassifier(SkipEmptyBatches, BaseModel):
    """Closed-answer classifier over the MLLM's image tokens and the question's token embeddings.

    Args:
        mllm: the generalist's ``InternVLMLLM`` config (only its image path and token embeddings are used).
        answers_file: JSONL file(s) whose last assistant turns are the classes (a COCO ``.json``: its names).
        num_layers / num_heads / ffn_dims: the bidirectional transformer over ``[CLS, question, image]``.
        max_question_tokens: question tokens kept.
        region_encoder: config of the generalist's ``RegionEncoder``: one token per visual prompt.
        backbone: an mmdet backbone config read on ``inputs['images']`` instead of the MLLM's tiles;
            ``backbone_tokens`` cells (a square number) of its last output are the image tokens.
        task: samples of this task are answered; others pass through.
    """

    def __init__(self, mllm: dict, answers_file: Union[str, Sequence[str]], num_layers: int = 2, num_heads: int = 4,
                 ffn_dims: int = 256, max_question_tokens: int = 32, task: str = 'vqa',
                 backbone: Optional[dict] = None, backbone_tokens: int = 16, region_encoder: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        self.mllm = MODELS.build(dict(mllm, type=mllm.get('type', 'InternVLMLLM')))
        self.mllm.model.model.language_model.requires_grad_(False)
        self.mllm.model.get_input_embeddings().requires_grad_(True)
        self.answers = read_answers(answers_file)
        self._index = {a: i for i, a in enumerate(self.answers)}
        dims = self.mllm.hidden_size
        self.backbone = MODELS.build(backbone) if backbone else None
        if self.backbone is not None:
            side = int(round(backbone_tokens**0.5))
            self.pool = nn.AdaptiveAvgPool2d(side)
            self.backbone_proj = nn.Linear(self.backbone.feat_dim, dims)  # mmdet ResNet: its last stage's channels
            for part in (self.mllm.model.model.vision_tower, self.mllm.model.model.multi_modal_projector):
                part.requires_grad_(False)  # not read
        num_image = side * side if backbone else self.mllm.num_image_tokens
        self.region_encoder = MODELS.build(dict(region_encoder, type=region_encoder.get('type', 'RegionEncoder'),
                                                out_dims=dims)) if region_encoder else None
        num_regions = self.region_encoder.max_regions if region_encoder else 0
        self.cls = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos = nn.Parameter(torch.randn(1, 1 + max_question_tokens + num_image + num_regions, dims) * 0.02)
        self.kind = nn.Embedding(3 if region_encoder else 2, dims)  # question / image (/ region)
        layer = nn.TransformerEncoderLayer(dims, num_heads, ffn_dims, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dims)
        self.head = nn.Linear(dims, len(self.answers))
        self.max_question_tokens, self.task = max_question_tokens, task

    @staticmethod
    def question(sample: VisionLLMDataSample) -> str:
        users = [m['content'] for m in sample.messages if m['role'] == 'user']
        return users[-1].replace('<image>', ' ').strip() if users else ''

    @staticmethod
    def answer(sample: VisionLLMDataSample) -> Optional[str]:
        last = sample.messages[-1] if sample.messages else None
        return last['content'].strip() if last and last['role'] == 'assistant' else None

    def region_tokens(self, inputs: dict, samples: List[VisionLLMDataSample], keep: List[int]
                      ) -> Tuple[Tensor, Tensor]:
        """Visual-prompt embeddings ``[K, R, D]`` of the samples at ``keep`` and their padding ``[K, R]``."""
        regs = self.region_encoder(inputs['images'][keep], [samples[i].region_masks for i in keep],
                                   [[r['kind'] for r in samples[i].region_prompts] for i in keep])
        r = self.region_encoder.max_regions
        out = F.pad(pad_sequence(regs, batch_first=True), (0, 0, 0, r - max(len(x) for x in regs)))
        lengths = torch.tensor([len(x) for x in regs], device=out.device)
        pad = torch.arange(r, device=out.device)[None] >= lengths[:, None]
        return out + self.kind.weight[2], pad

    def image_tokens(self, inputs: dict, keep: List[int]) -> Tensor:
        """Image tokens ``[K, N, D]`` of the samples at ``keep``."""
        if self.backbone is not None:
            feat = self.pool(self.backbone(inputs['images'][keep])[-1])  # [K, C, side, side]
            return self.backbone_proj(feat.flatten(2).transpose(1, 2))
        first = torch.cumsum(inputs['num_tiles'], 0) - inputs['num_tiles']  # each sample's first tile
        return self.mllm.encode_images(inputs['pixel_values'][first[keep]])  # only the answered samples' tiles

    def logits(self, inputs: dict, samples: List[VisionLLMDataSample], keep: List[int]) -> Tensor:
        """Answer logits ``[K, S, num_answers]`` of the samples at ``keep`` (one tile each): S = 1 (read at CLS),
        or one per region slot (read at each region token) with a region encoder."""
        img = self.image_tokens(inputs, keep)
        dev, q = img.device, self.max_question_tokens
        tok = self.mllm.tokenizer
        ids = tok([self.question(samples[i]) for i in keep], add_special_tokens=False, padding='max_length',
                  truncation=True, max_length=q, padding_side='right', return_tensors='pt').input_ids.to(dev)
        q_emb = self.mllm.embed_tokens(ids) + self.kind.weight[0]
        parts = [self.cls.expand(len(keep), -1, -1), q_emb, img + self.kind.weight[1]]
        pads = [torch.zeros(len(keep), 1, dtype=torch.bool, device=dev), ids == tok.pad_token_id,
                torch.zeros(img.shape[:2], dtype=torch.bool, device=dev)]
        if self.region_encoder is not None:
            regs, reg_pad = self.region_tokens(inputs, samples, keep)
            parts.append(regs)
            pads.append(reg_pad)
        seq, pad = torch.cat(parts, 1), torch.cat(pads, 1)
        out = self.encoder(seq + self.pos[:, :seq.shape[1]], src_key_padding_mask=pad)
        read = out[:, -self.region_encoder.max_regions:] if self.region_encoder is not None else out[:, :1]
        return self.head(self.norm(read))

    def labels(self, samples: List[VisionLLMDataSample], keep: List[int], slots: int) -> List[List[int]]:
        """Class index per sample and slot (-100: no answer there, or one outside the classes)."""
        out = []
        for i in keep:
            names = samples[i].region_names if self.region_encoder is not None else [self.answer(samples[i])]
            row = [self._index.get(n, -100) for n in (names or [])][:slots]
            out.append(row + [-100] * (slots - len(row)))
        return out

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        keep = [i for i, s in enumerate(data_samples) if s.get('task') == self.task]
        slots = self.region_encoder.max_regions if self.region_encoder is not None else 1
        if mode == 'loss':
            labels = self.labels(data_samples, keep, slots)
            if not keep or all(t < 0 for row in labels for t in row):
                return {f'{self.task}.loss': sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0}
            out = self.logits(inputs, data_samples, keep)
            target = torch.tensor(labels, device=out.device)
            return {f'{self.task}.loss': F.cross_entropy(out.flatten(0, 1), target.flatten(), ignore_index=-100)}
        if mode == 'predict':
            if keep:
                with torch.no_grad():
                    best = self.logits(inputs, data_samples, keep).argmax(-1).tolist()
                for i, row in zip(keep, best):
                    n = len(data_samples[i].region_prompts) if self.region_encoder is not None else 1
                    data_samples[i].pred_text = ', '.join(self.answers[k] for k in row[:n])
            return data_samples
        raise ValueError(f'mode {mode!r} is not supported by {type(self).__name__}')
