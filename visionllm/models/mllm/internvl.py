"""InternVL MLLM: InternViT + pixel shuffle + MLP projector + LLM (transformers' native classes).

Built from config with random init, or from a local checkpoint directory in transformers' InternVL
format (``pretrained=``; the InternVL3-*-hf layout). Nothing is downloaded.
"""
import copy
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.utils.errors import ConfigError

from .tokenizer import build_tokenizer


@MODELS.register_module()
class InternVLMLLM(BaseModule):
    """The multimodal LLM of the generalist.

    Args:
        vision_config: kwargs of ``InternVLVisionConfig`` (ignored with ``pretrained``).
        text_config: kwargs of the LLM config incl. ``model_type`` (default ``qwen2``); the vocabulary is
            the tokenizer's size or ``vocab_size`` if that is larger.
        tokenizer: kwargs of :func:`build_tokenizer` (``path``, ``train_if_missing``, ``vocab_size``);
            ``path`` defaults to ``pretrained``.
        downsample_ratio: pixel-shuffle ratio (0.5: 4 patches -> 1 token).
        pretrained: local directory written by ``save_pretrained`` (transformers InternVL format).
        special_tokens: tokens to add (routing tokens, query placeholder), set by the generalist.
        gradient_checkpointing: enable HF gradient checkpointing in vision tower and LLM.
        freeze_vision / freeze_llm: stop gradients into these parts.
        lora: peft ``LoraConfig`` kwargs (``r``, ``lora_alpha``, ``target_modules`` ...): LoRA adapters are
            injected into the LLM, whose other weights then freeze (embeddings too unless
            ``train_embeddings=True`` in this dict, needed when new special tokens must learn).
    """

    def __init__(self, vision_config: Optional[dict] = None, text_config: Optional[dict] = None,
                 tokenizer: Optional[dict] = None, downsample_ratio: float = 0.5,
                 projector_hidden_act: str = 'gelu', pretrained: Optional[str] = None,
                 special_tokens: Sequence[str] = (), gradient_checkpointing: bool = False,
                 freeze_vision: bool = False, freeze_llm: bool = False, lora: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg)
        from transformers import CONFIG_MAPPING, InternVLConfig, InternVLForConditionalGeneration
        from transformers.models.internvl import InternVLVisionConfig
        tok_cfg = dict(tokenizer or {})
        tok_cfg.setdefault('path', pretrained)
        if not tok_cfg['path']:
            raise ConfigError('mllm.tokenizer.path is required when mllm.pretrained is not set')
        self.tokenizer = build_tokenizer(special_tokens=special_tokens, **tok_cfg)
        img_ctx = self.tokenizer.convert_tokens_to_ids('<IMG_CONTEXT>')
        if pretrained:
            if not osp.isdir(pretrained):
                raise ConfigError(f'mllm.pretrained={pretrained!r} is not a local directory '
                                  '(weights are never downloaded)')
            self.model = InternVLForConditionalGeneration.from_pretrained(pretrained, dtype=torch.float32)
            if self.model.get_input_embeddings().num_embeddings < len(self.tokenizer):
                self.model.resize_token_embeddings(len(self.tokenizer), mean_resizing=True)
            self.model.config.image_token_id = img_ctx
        else:
            text_config = dict(text_config or {})
            text_cls = CONFIG_MAPPING[text_config.pop('model_type', 'qwen2')]
            vision = InternVLVisionConfig(**(vision_config or {}))
            size, patch = vision.image_size[0], vision.patch_size[0]
            cfg = InternVLConfig(
                vision_config=vision,
                # the tokenizer's size, or the config's padded vocabulary when larger (as real checkpoints)
                text_config=text_cls(**dict(text_config, vocab_size=max(len(self.tokenizer),
                                                                        text_config.get('vocab_size', 0)))),
                image_token_id=img_ctx, downsample_ratio=downsample_ratio,
                image_seq_length=int((size // patch)**2 * downsample_ratio**2),
                projector_hidden_act=projector_hidden_act)
            self.model = InternVLForConditionalGeneration(cfg)
        if gradient_checkpointing:
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=dict(use_reentrant=False))
        self.model.model.vision_tower.requires_grad_(not freeze_vision)
        self.model.model.language_model.requires_grad_(not freeze_llm)
        if lora:
            self._add_lora(dict(lora))

    def _add_lora(self, lora: dict) -> None:
        from peft import LoraConfig, inject_adapter_in_model
        train_embeddings = lora.pop('train_embeddings', True)
        lm = self.model.model.language_model
        lm.requires_grad_(False)
        inject_adapter_in_model(LoraConfig(**dict(dict(r=8, lora_alpha=16, lora_dropout=0.0,
                                                       target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj']),
                                                  **lora)), lm)
        for n, p in lm.named_parameters():
            if 'lora_' in n:
                p.requires_grad_(True)
        self.model.get_input_embeddings().requires_grad_(train_embeddings)

    def init_weights(self) -> None:
        """No-op: the HF model is initialised (or loaded) at construction; re-running HF's
        initialisation here would overwrite pretrained weights."""
        self._is_init = True

    # ---- sizes -------------------------------------------------------------------------------------
    @property
    def hidden_size(self) -> int:
        return self.model.config.text_config.hidden_size

    @property
    def tile_size(self) -> int:
        return self.model.config.vision_config.image_size[0]

    @property
    def num_image_tokens(self) -> int:
        """Image tokens per tile (after pixel shuffle)."""
        vc = self.model.config.vision_config
        return int((vc.image_size[0] // vc.patch_size[0])**2 * self.model.config.downsample_ratio**2)

    # ---- forward pieces ----------------------------------------------------------------------------
    def encode_images(self, pixel_values: Tensor) -> Tensor:
        """Tiles [T, 3, s, s] (normalized) -> image tokens [T, num_image_tokens, D]."""
        return self.model.model.get_image_features(pixel_values=pixel_values).pooler_output

    def image_parameters(self) -> List[nn.Parameter]:
        """Trainable parameters of the image path (vision tower + projector)."""
        model = self.model.model
        return [p for m in (model.vision_tower, model.multi_modal_projector) for p in m.parameters() if p.requires_grad]

    def embed_tokens(self, input_ids: Tensor) -> Tensor:
        """[B, L] -> [B, L, D]."""
        return self.model.get_input_embeddings()(input_ids)

    def forward_llm(self, inputs_embeds: Tensor, attention_mask: Optional[Tensor] = None,
                    position_ids: Optional[Tensor] = None, cache=None, use_cache: bool = False,
                    logits_mask: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor], object]:
        """Run the LLM on embeddings [B, L, D].

        Returns (last hidden states [B, L, D], logits [B, L, V] or, with ``logits_mask`` [B, L] bool,
        logits of the masked positions only [N, V], the KV cache or None).
        """
        out = self.model.model.language_model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                              position_ids=position_ids, cache=cache, use_cache=use_cache)
        hidden = out.last_hidden_state
        feats = hidden[logits_mask] if logits_mask is not None else hidden
        return hidden, self.model.lm_head(feats), out.cache

    def save_pretrained(self, save_dir: str, max_tiles: int = 12, answer_space: bool = False) -> None:
        """Write the MLLM + tokenizer as a transformers InternVL checkpoint directory, with the processor's
        files (chat template, image tokens, tiling up to ``max_tiles``: ``processor_files``). LoRA adapters
        are merged into a copy of the base weights first, so that the directory loads without peft.
        ``answer_space``: the exported chat template starts assistant turns with a space (``ChatTemplate``'s)."""
        from .processor_files import write_processor_files
        os.makedirs(save_dir, exist_ok=True)
        tok = write_processor_files(save_dir, self.tokenizer, self.tile_size, max_tiles, self.num_image_tokens,
                                    answer_space)
        if self.model.get_input_embeddings().num_embeddings < len(tok):  # a token the processor names (<video>)
            model = merged_lora_model(self.model)
            model = copy.deepcopy(model) if model is self.model else model
            model.resize_token_embeddings(len(tok), mean_resizing=True)
            model.save_pretrained(save_dir)
            return
        with lora_merged(self.model) as state_dict:  # no copy of the weights
            self.model.save_pretrained(save_dir, state_dict=state_dict)


@contextmanager
def lora_merged(model: nn.Module) -> Iterator[Optional[dict]]:
    """Inside the block, every LoRA layer of ``model`` is merged into its base layer (W + B A * scale, in place)
    and the yielded state dict has plain transformers names (no adapters, no ``base_layer``); the adapters are
    unmerged on exit. Yields None for a model without LoRA layers."""
    from peft.tuners.lora import LoraLayer
    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    if not layers:
        yield None
        return
    for m in layers:
        m.merge()
    try:
        yield {k.replace('.base_layer.', '.'): v for k, v in model.state_dict().items() if '.lora_' not in k}
    finally:
        for m in layers:
            m.unmerge()


def merged_lora_model(model: nn.Module) -> nn.Module:
    """``model`` itself if it has no LoRA layers, else a copy with every LoRA layer merged into its base
    layer (W + B A * scale) and replaced by it: plain transformers modules and parameter names."""
    from peft.tuners.lora import LoraLayer
    if not any(isinstance(m, LoraLayer) for m in model.modules()):
        return model
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent, _, child = name.rpartition('.')
            setattr(model.get_submodule(parent) if parent else model, child, module.get_base_layer())
    return model
