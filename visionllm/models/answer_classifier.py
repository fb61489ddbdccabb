"""Yardstick for the text answers without an LLM: a classifier over the generalist's own image path.

The vision tower + projector are built from the generalist's ``mllm`` config (same classes, sizes and
tokenizer); the question's token embeddings and the image tokens feed a small bidirectional transformer
whose first output picks one of the answers found in the training file (softmax), instead of an LLM
writing the answer. With ``backbone`` (e.g. the detection decoder's ResNet) the image tokens are its last
feature map on the decoders' input image instead (one token per cell, projected to the width). Trained on
the same dataloader and schedule as the LLM's config: samples of other tasks (captions) pass through
untouched, so it answers only closed questions (VQA).
"""
import json
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import VisionLLMDataSample
from visionllm.utils.errors import DataFormatError


def read_answers(files: Union[str, Sequence[str]]) -> List[str]:
    """Sorted distinct final assistant turns of LLaVA-style JSONL files."""
    answers = set()
    for path in [files] if isinstance(files, str) else files:
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
class AnswerClassifier(BaseModel):
    """Closed-answer classifier over the MLLM's image tokens and the question's token embeddings.

    Args:
        mllm: the generalist's ``InternVLMLLM`` config (only its image path and token embeddings are used).
        answers_file: JSONL file(s) whose last assistant turns are the classes.
        num_layers / num_heads / ffn_dims: the bidirectional transformer over ``[CLS, question, image]``.
        max_question_tokens: question tokens kept.
        backbone: an mmdet backbone config read on ``inputs['images']`` instead of the MLLM's tiles;
            ``backbone_tokens`` cells (a square number) of its last output are the image tokens.
        task: samples of this task are answered; others pass through.
    """

    def __init__(self, mllm: dict, answers_file: Union[str, Sequence[str]], num_layers: int = 2, num_heads: int = 4,
                 ffn_dims: int = 256, max_question_tokens: int = 32, task: str = 'vqa',
                 backbone: Optional[dict] = None, backbone_tokens: int = 16,
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
        num_image = side * side if backbone else self.mllm.num_image_tokens
        self.cls = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos = nn.Parameter(torch.randn(1, 1 + max_question_tokens + num_image, dims) * 0.02)
        self.kind = nn.Embedding(2, dims)  # question / image
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

    def image_tokens(self, inputs: dict, keep: List[int]) -> Tensor:
        """Image tokens ``[K, N, D]`` of the samples at ``keep``."""
        if self.backbone is not None:
            feat = self.pool(self.backbone(inputs['images'][keep])[-1])  # [K, C, side, side]
            return self.backbone_proj(feat.flatten(2).transpose(1, 2))
        tiles = self.mllm.encode_images(inputs['pixel_values']).split(inputs['num_tiles'].tolist())
        return torch.stack([tiles[i][0] for i in keep])  # the first tile of each sample

    def logits(self, inputs: dict, samples: List[VisionLLMDataSample], keep: List[int]) -> Tensor:
        """Answer logits ``[len(keep), num_answers]`` of the samples at ``keep`` (one tile each)."""
        img = self.image_tokens(inputs, keep)
        dev, q = img.device, self.max_question_tokens
        tok = self.mllm.tokenizer
        ids = torch.full((len(keep), q), tok.pad_token_id, dtype=torch.long, device=dev)
        for b, i in enumerate(keep):
            t = tok(self.question(samples[i]), add_special_tokens=False).input_ids[:q]
            ids[b, :len(t)] = torch.tensor(t, dtype=torch.long, device=dev)
        q_emb = self.mllm.embed_tokens(ids) + self.kind.weight[0]
        seq = torch.cat([self.cls.expand(len(keep), -1, -1), q_emb, img + self.kind.weight[1]], 1) + self.pos
        pad = torch.zeros(seq.shape[:2], dtype=torch.bool, device=dev)
        pad[:, 1:1 + q] = ids == tok.pad_token_id
        return self.head(self.norm(self.encoder(seq, src_key_padding_mask=pad)[:, 0]))

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        keep = [i for i, s in enumerate(data_samples) if s.get('task') == self.task]
        if mode == 'loss':
            labels = [self._index.get(self.answer(data_samples[i]), -100) for i in keep]
            if not keep or all(t < 0 for t in labels):
                return {f'{self.task}.loss': sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0}
            out = self.logits(inputs, data_samples, keep)
            return {f'{self.task}.loss': F.cross_entropy(out, torch.tensor(labels, device=out.device))}
        if mode == 'predict':
            if keep:
                with torch.no_grad():
                    best = self.logits(inputs, data_samples, keep).argmax(-1).tolist()
                for i, k in zip(keep, best):
                    data_samples[i].pred_text = self.answers[k]
            return data_samples
        raise ValueError(f'mode {mode!r} is not supported by {type(self).__name__}')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        if not data.get('data_samples'):
            return {}
        return super().train_step(data, optim_wrapper)
