"""VisionLLM: the generalist. MLLM -> super-link -> specialist decoders."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, ModuleDict
from torch import Tensor

from visionllm.models.conversation_encoder import ConversationEncoder
from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample
from visionllm.utils.errors import ConfigError, PromptError

from .decoder_order import dependency_order
from .length_buckets import length_buckets
from .lm_loss import lm_loss
from .mllm.chat_template import IGNORE_INDEX, ChatTemplate
from .predict_options import PredictOptions
from .superlink.beam_search import beam_search
from .superlink.generation import generate_with_queries
from .superlink.sampling import GenerationOptions, TokenPicker
from .task_postprocess import task_postprocess


@MODELS.register_module()
class VisionLLM(BaseModel):
    """One InternVL MLLM that routes to specialist decoders through the super-link.

    Args:
        mllm: config of :class:`InternVLMLLM`.
        superlink: config of :class:`SuperLink` (families, queries per group).
        decoders: ``{family: decoder config}``; each family must exist in the super-link.
        chat_template: kwargs of :class:`ChatTemplate` (``system``, ``answer_space``).
        loss_weights: ``{'lm': w, family: w}`` multipliers of each part's losses.
        lm_loss_mean: ``'token'``: the LM loss is the mean over every answer token of the batch (long
            answers, e.g. detection lists, dominate it); ``'sample'``: the mean over samples of each sample's
            token mean, so a one-word VQA answer counts as much as a list of 30 names.
        max_length: longest token sequence accepted.
        test_cfg: ``max_new_tokens`` of free generation: an int, or ``{task: int, 'default': int}``; a
            sample whose request lists its groups (``gt_groups``: the names the answer must route, e.g.
            the prompted class list) is also bounded by that answer's length plus ``answer_slack``
            tokens, so an untrained model that never ends its answer costs what a trained one does.
            ``generation``: :class:`GenerationOptions` kwargs (greedy by default; sampling, temperature,
            top_k, top_p, repetition_penalty, seed; num_beams, length_penalty for beam search). A call
            changes them with :class:`PredictOptions` (``predict(..., options)``), never by writing here.
        touch_unused_decoders: add a zero loss over the decoders a batch does not use, so DDP / ZeRO see
            gradients for every parameter with mixed-task batches.
        frozen_modules: names (prefixes) of submodules whose parameters do not train, e.g.
            ``['mllm', 'superlink']`` for a decoders-only stage.
        llm_length_buckets: in training and prompted inference, the LLM runs samples of similar length
            together in up to this many forwards, each trimmed to its longest sample
            (:func:`length_buckets`); 1 = one padded batch.
        region_encoder: config of :class:`RegionEncoder` (visual prompts): its ``token`` (``<region>``) is
            added to the tokenizer, and the k-th such token of a sample's input sequence gets the embedding of
            the sample's region ``k mod R`` (``region_masks`` [R, h, w]; every message lists the regions in
            order). Tokens the LLM writes itself in free generation are plain tokens: the visual-prompt tasks
            answer with their template (prompted), except region captioning, whose answer is text.
    """

    def __init__(self, mllm: dict, superlink: dict, decoders: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None, chat_template: Optional[dict] = None,
                 loss_weights: Optional[Dict[str, float]] = None, max_length: int = 2048,
                 test_cfg: Optional[dict] = None, touch_unused_decoders: bool = False,
                 frozen_modules: Sequence[str] = (), llm_length_buckets: int = 2,
                 region_encoder: Optional[dict] = None, lm_loss_mean: str = 'token', init_cfg=None):
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor or dict(type='VisionLLMDataPreprocessor')),
                         init_cfg=init_cfg)
        self.superlink = MODELS.build(superlink)
        region_tokens = [region_encoder.get('token', '<region>')] if region_encoder else []
        self.mllm = MODELS.build(dict(mllm, special_tokens=self.superlink.special_tokens + region_tokens))
        self.superlink.bind(self.mllm.tokenizer, self.mllm.hidden_size, name_tokens=region_tokens)
        self.region_encoder = None
        if region_encoder:
            self.region_encoder = MODELS.build(dict(type='RegionEncoder', **region_encoder),
                                               default_args=dict(out_dims=self.mllm.hidden_size))
            self.region_token_id = self.tokenizer.convert_tokens_to_ids(region_tokens[0])
        self.template = ChatTemplate(self.mllm.tokenizer, placeholders=region_tokens, **(chat_template or {}))
        self.decoders = ModuleDict()  # mmengine's: init_weights() reaches the decoders
        for family, cfg in (decoders or {}).items():
            if family not in self.superlink.families:
                raise ConfigError(f'decoder family {family!r} has no super-link family; known: '
                                  f'{sorted(self.superlink.families)}')
            fam = self.superlink.families[family]
            self.decoders[family] = MODELS.build(cfg, default_args=dict(
                condition_dims=self.mllm.hidden_size, routing_tokens=fam['tokens'],
                num_queries=fam['num_queries']))
        self.decoder_order = dependency_order({f: tuple(d.requires) for f, d in self.decoders.items()})
        self.loss_weights = dict(loss_weights or {})
        if lm_loss_mean not in ('token', 'sample'):
            raise ConfigError(f"lm_loss_mean must be 'token' or 'sample', got {lm_loss_mean!r}")
        self.lm_loss_mean = lm_loss_mean
        self.max_length = max_length
        self.test_cfg = dict(dict(max_new_tokens=64, answer_slack=16), **(test_cfg or {}))
        self.touch_unused_decoders = touch_unused_decoders
        self.llm_length_buckets = llm_length_buckets
        for name in frozen_modules:
            try:
                self.get_submodule(name).requires_grad_(False)
            except AttributeError:
                raise ConfigError(f'frozen_modules: no submodule {name!r}') from None

    @property
    def device(self) -> torch.device:
        return self.mllm.model.lm_head.weight.device

    @property
    def tokenizer(self):
        return self.mllm.tokenizer

    # ---- sequences ----------------------------------------------------------------------------------
    def encode_sample(self, sample: VisionLLMDataSample, num_tiles: int, for_generation: bool
                      ) -> Tuple[List[int], List[int]]:
        """Chat-template + super-link slots for one sample -> (ids, labels)."""
        ids, labels = self.template.encode(sample.messages, num_tiles * self.mllm.num_image_tokens,
                                           add_generation_prompt=for_generation)
        ids, labels = self.superlink.expand(ids, labels, IGNORE_INDEX)
        if len(ids) > self.max_length:
            raise PromptError(f'sample {sample.metainfo.get("img_path", "?")}: {len(ids)} tokens exceed '
                              f'max_length={self.max_length}; shorten the prompt or class list')
        return ids, labels

    def conversation_encoder(self) -> ConversationEncoder:
        """``encode_sample`` of training samples as a picklable object for the dataloader workers
        (``PackVisionLLMInputs.encoder``; ``TokenizeInWorkersHook`` sets it)."""
        return ConversationEncoder(self.template, self.superlink.slot_expander(), self.mllm.num_image_tokens,
                                   self.max_length)

    def _pad(self, seqs: List[List[int]], value: int, left: bool) -> Tensor:
        n = max(len(s) for s in seqs)
        rows = [([value] * (n - len(s)) + s) if left else (s + [value] * (n - len(s))) for s in seqs]
        return torch.tensor(rows, dtype=torch.long, device=self.device)

    def region_features(self, inputs: dict, samples: Sequence[VisionLLMDataSample]) -> Optional[List[Tensor]]:
        """Per sample [R_i, D] embeddings of its visual prompts (``region_masks``), or None when no sample of
        the batch has any."""
        if not any('region_masks' in s for s in samples):
            return None
        if self.region_encoder is None:
            raise PromptError('the samples carry regions (visual prompts) but this model has no region_encoder')
        masks, kinds = [], []
        for s in samples:
            m = s.get('region_masks')
            if m is not None and len(m) > self.region_encoder.max_regions:
                raise PromptError(f'{s.metainfo.get("img_path", "?")}: {len(m)} regions; the model takes at most '
                                  f'{self.region_encoder.max_regions} per image')
            kind = [r['kind'] for r in s.metainfo.get('region_prompts', [])] if m is not None else []
            if m is not None and len(kind) != len(m):
                raise PromptError(f'{s.metainfo.get("img_path", "?")}: {len(m)} region masks but {len(kind)} '
                                  'region_prompts (each region needs its kind)')
            masks.append(m)
            kinds.append(kind)
        return self.region_encoder(inputs['images'], masks, kinds)

    def embed(self, input_ids: Tensor, pixel_values: Optional[Tensor],
              regions: Optional[List[Tensor]] = None) -> Tensor:
        """Token embeddings with image features, region embeddings (``regions``: per row [R, D], see
        :meth:`region_features`) and query banks in place: [B, L, D]."""
        embeds = self.mllm.embed_tokens(input_ids)
        img_mask = input_ids == self.mllm.model.config.image_token_id
        n_slots = int(img_mask.sum())
        if n_slots or pixel_values is not None:
            feats = self.mllm.encode_images(pixel_values) if pixel_values is not None else None
            n_feats = 0 if feats is None else feats.shape[0] * feats.shape[1]
            if n_feats != n_slots:
                raise ValueError(f'{n_slots} image-token slots in the text but {n_feats} image features '
                                 f'({0 if feats is None else feats.shape[0]} tiles)')
            embeds = embeds.masked_scatter(img_mask[..., None], feats.reshape(-1, feats.shape[-1]).to(embeds.dtype))
        if self.region_encoder is not None:
            embeds = self._insert_regions(embeds, input_ids, regions)
        return self.superlink.insert(embeds, input_ids)

    def _insert_regions(self, embeds: Tensor, input_ids: Tensor, regions: Optional[List[Tensor]]) -> Tensor:
        """Put region k mod R of each row at its k-th ``<region>`` token."""
        b, p = (input_ids == self.region_token_id).nonzero(as_tuple=True)
        if not len(b):
            return embeds
        rows, cols, feats = [], [], []
        for bi in torch.unique(b).tolist():
            pos = p[b == bi]
            r = regions[bi] if regions is not None else None
            if r is None or not len(r):
                raise PromptError(f'sample {bi}: the prompt has {len(pos)} {self.region_encoder.token} token(s) but '
                                  'no region was given (region_masks)')
            if len(pos) % len(r):
                raise PromptError(f'sample {bi}: {len(pos)} {self.region_encoder.token} tokens for {len(r)} regions; '
                                  'each message lists every region once, in order')
            rows.append(torch.full_like(pos, bi))
            cols.append(pos)
            feats.append(r[torch.arange(len(pos), device=r.device) % len(r)])
        out = embeds.clone()
        out[torch.cat(rows), torch.cat(cols)] = torch.cat(feats).to(out.dtype)
        return out

    # ---- mmengine entry points -------------------------------------------------------------------------
    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """As BaseModel's, but a batch whose samples were all skipped (bad files) is a no-op."""
        if not data.get('data_samples'):
            return {}
        return super().train_step(data, optim_wrapper)

    def forward(self, inputs: dict, data_samples: Optional[List[VisionLLMDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward_tensor(inputs, data_samples)
        raise ValueError(f'invalid mode {mode!r}; expected loss, predict or tensor')

    def sequences(self, samples: List[VisionLLMDataSample], num_tiles, for_generation: bool = False
                  ) -> Tuple[Tensor, Tensor, Tensor]:
        """Padded (input_ids, labels, attention mask) [B, L] of samples; left padding for generation. Training
        samples tokenised in the dataloader workers (``token_ids`` / ``token_labels``) are used as they are."""
        enc = [(s.token_ids, s.token_labels) if not for_generation and 'token_ids' in s
               else self.encode_sample(s, int(n), for_generation) for s, n in zip(samples, num_tiles)]
        ids = self._pad([e[0] for e in enc], self.tokenizer.pad_token_id, left=for_generation)
        labels = self._pad([e[1] for e in enc], IGNORE_INDEX, left=for_generation)
        return ids, labels, self._pad([[1] * len(e[0]) for e in enc], 0, left=for_generation)

    def _forward_tensor(self, inputs, data_samples):
        input_ids, _, mask = self.sequences(data_samples, inputs['num_tiles'])
        regions = self.region_features(inputs, data_samples)
        hidden, logits, _ = self.mllm.forward_llm(self.embed(input_ids, inputs['pixel_values'], regions),
                                                  self.superlink.attention_mask(input_ids, mask),
                                                  self.superlink.position_ids(input_ids, mask))
        return logits

    def loss(self, inputs: dict, data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        input_ids, labels, mask = self.sequences(data_samples, inputs['num_tiles'])
        target = self.superlink.next_token_targets(input_ids, labels, IGNORE_INDEX)
        learn = target != IGNORE_INDEX
        regions = self.region_features(inputs, data_samples)
        embeds = self.embed(input_ids, inputs['pixel_values'], regions)
        hidden = self.llm_hidden_states(embeds, input_ids, mask)
        logits = self.mllm.model.lm_head(hidden[learn])
        losses = {}
        if learn.any():
            losses['lm.loss'] = lm_loss(logits, target, learn, self.lm_loss_mean) * self.loss_weights.get('lm', 1.0)
        else:
            losses['lm.loss'] = hidden.sum() * 0.0
        conditions = self.superlink.gather(hidden, input_ids, embeds)
        unused_banks = [b for f, b in self.superlink.banks.items() if f not in conditions]
        if unused_banks:  # keep every parameter in the graph for DDP
            losses['lm.loss'] = losses['lm.loss'] + sum(b.sum() for b in unused_banks) * 0.0
        if regions is None and self.region_encoder is not None and self.touch_unused_decoders:  # no visual prompt
            losses['lm.loss'] = losses['lm.loss'] + sum(p.sum() for p in self.region_encoder.parameters()) * 0.0
        if inputs['pixel_values'] is None and self.touch_unused_decoders:  # a batch without images (text to
            # image): the image path gets a zero gradient, as on ranks whose batch has images
            losses['lm.loss'] = losses['lm.loss'] + sum(p.sum() for p in self.mllm.image_parameters()) * 0.0
        for family, decoder in self.decoders.items():
            if family not in conditions:
                if self.touch_unused_decoders:
                    losses[f'{family}.loss_unused'] = sum(p.sum() for p in decoder.parameters()
                                                          if p.requires_grad) * 0.0
                continue
            sub_inputs, sub_conds, sub_samples = self._subset(inputs, conditions[family], data_samples)
            w = self.loss_weights.get(family, 1.0)
            for k, v in decoder.loss(sub_inputs, sub_conds, sub_samples).items():
                losses[f'{family}.{k}'] = v * w if 'loss' in k else v
        return losses

    def llm_hidden_states(self, embeds: Tensor, input_ids: Tensor, mask: Tensor) -> Tensor:
        """Last-layer hidden states [B, L, D] of right-padded embeddings [B, L, D] (ids and padding mask
        [B, L]), run in length buckets; rows past a sample's length are not meaningful."""

        def run(e: Tensor, ids: Tensor, m: Tensor) -> Tensor:
            return self.mllm.forward_llm(e, self.superlink.attention_mask(ids, m), self.superlink.position_ids(ids, m),
                                         logits_mask=torch.zeros_like(m, dtype=torch.bool))[0]

        groups = length_buckets(mask.sum(1).tolist(), self.llm_length_buckets)
        if len(groups) <= 1:
            return run(embeds, input_ids, mask)
        parts = []
        for g in groups:
            idx = torch.tensor(g, device=input_ids.device)
            n = int(mask[idx].sum(1).max())
            h = run(embeds[idx, :n], input_ids[idx, :n], mask[idx, :n])
            parts.append(F.pad(h, (0, 0, 0, input_ids.shape[1] - n)))
        order = torch.tensor(sum(groups, []), device=input_ids.device)
        return torch.cat(parts)[torch.argsort(order)]

    def _subset(self, inputs: dict, conds: TaskConditions, samples: List[VisionLLMDataSample]):
        """Restrict decoder inputs and samples to those with groups; renumber condition indices."""
        keep = torch.unique(conds.batch_idx)
        remap = torch.full((len(samples), ), -1, dtype=torch.long, device=keep.device)
        remap[keep] = torch.arange(len(keep), device=keep.device)
        sub_inputs = {'images': inputs['images'][keep] if inputs.get('images') is not None else None,
                      'image_mean': self.data_preprocessor.image_mean, 'image_std': self.data_preprocessor.image_std}
        return sub_inputs, conds.remap_samples(remap), [samples[i] for i in keep.tolist()]

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: List[VisionLLMDataSample],
                options: Optional[PredictOptions] = None) -> List[VisionLLMDataSample]:
        """Prompted samples (conversation ends with the assistant's answer template) run in one
        forward; the others generate freely (chat, or routing tokens emitted by the LLM). ``options``:
        this call's settings (the model is not changed)."""
        opts = options or PredictOptions()
        num_tiles = inputs['num_tiles'].tolist()
        tile_start = [0] + list(torch.tensor(num_tiles).cumsum(0).tolist())
        prompted = [i for i, s in enumerate(data_samples) if s.messages and s.messages[-1]['role'] == 'assistant']
        free = [i for i in range(len(data_samples)) if i not in prompted]
        all_conds: Dict[str, List[TaskConditions]] = {}
        regions = self.region_features(inputs, data_samples)

        def regions_of(idx):
            return None if regions is None else [regions[i] for i in idx]

        def tiles_of(idx):
            pv = inputs['pixel_values']
            if pv is None:
                return None
            parts = [pv[tile_start[i]:tile_start[i + 1]] for i in idx if num_tiles[i]]
            return torch.cat(parts) if parts else None

        if prompted:
            input_ids, _, mask = self.sequences([data_samples[i] for i in prompted], [num_tiles[i] for i in prompted])
            embeds = self.embed(input_ids, tiles_of(prompted), regions_of(prompted))
            hidden = self.llm_hidden_states(embeds, input_ids, mask)
            for f, c in self.superlink.gather(hidden, input_ids, embeds).items():
                all_conds.setdefault(f, []).append(c.remap_samples(torch.tensor(prompted, device=self.device)))
        options = GenerationOptions(**{**self.test_cfg.get('generation', {}), **opts.generation})
        if free and options.num_beams > 1:
            if opts.streamer is not None:
                raise PromptError('beam search answers are not streamed; use greedy or sampling to stream')
            for i in free:
                for f, c in self._beam_predict(data_samples[i], num_tiles[i], tiles_of([i]), options,
                                               regions_of([i]), opts.max_new_tokens).items():
                    all_conds.setdefault(f, []).append(c.remap_samples(torch.tensor([i], device=self.device)))
        elif free:
            input_ids, _, mask = self.sequences([data_samples[i] for i in free], [num_tiles[i] for i in free], True)
            out = generate_with_queries(self.mllm, self.superlink,
                                        self.embed(input_ids, tiles_of(free), regions_of(free)), mask,
                                        input_ids, [self.token_budget(data_samples[i], opts.max_new_tokens)
                                                    for i in free],
                                        self.tokenizer.eos_token_id, TokenPicker(options, self.device), opts.streamer)
            for k, i in enumerate(free):
                data_samples[i].pred_text = self._clean_text(out.token_ids[k])
            for f, c in out.conditions.items():
                all_conds.setdefault(f, []).append(c.remap_samples(torch.tensor(free, device=self.device)))
        for family in self.decoder_order:  # a decoder after those it reads (pose after detection)
            decoder = self.decoders[family]
            parts = all_conds.get(family)
            if not parts:
                continue
            conds = TaskConditions.cat(parts)
            sub_inputs, sub_conds, sub_samples = self._subset(inputs, conds, data_samples)
            call_cfg = opts.decoders.get(family)  # a decoder without test options may omit the argument
            decoder.predict(sub_inputs, sub_conds, sub_samples, **(dict(test_cfg=call_cfg) if call_cfg else {}))
        task_postprocess(data_samples)
        return data_samples

    def _beam_predict(self, sample: VisionLLMDataSample, num_tiles: int, pixel_values: Optional[Tensor],
                      options: GenerationOptions, regions: Optional[List[Tensor]] = None,
                      max_new_tokens: Optional[int] = None) -> Dict[str, TaskConditions]:
        """Beam search for one free sample: sets ``pred_text``; returns the conditions of the routes in the
        best answer (read in one forward over prompt + answer, as a prompted sample's)."""
        raw, _ = self.template.encode(sample.messages, num_tiles * self.mllm.num_image_tokens,
                                      add_generation_prompt=True)
        prompt = self.superlink.expand(raw, raw, IGNORE_INDEX)[0]
        prompt_embeds = self.embed(torch.tensor([prompt], device=self.device), pixel_values, regions)  # [1, Lp, D]

        def read(gens: List[List[int]]):
            seqs = [prompt + self.superlink.expand(g, g, IGNORE_INDEX)[0] for g in gens]
            ids = self._pad(seqs, self.tokenizer.pad_token_id, left=False)
            mask = self._pad([[1] * len(q) for q in seqs], 0, left=False)
            embeds = torch.cat([prompt_embeds.expand(len(gens), -1, -1),
                                self.mllm.embed_tokens(ids[:, len(prompt):])], 1)
            embeds = self.superlink.insert(embeds, ids)
            return ids, mask, embeds, self.llm_hidden_states(embeds, ids, mask)

        def step_logprobs(gens: List[List[int]]) -> Tensor:
            ids, mask, _, hidden = read(gens)
            last = hidden[torch.arange(len(gens), device=self.device), self.superlink.last_text_index(ids, mask)]
            return F.log_softmax(self.mllm.model.lm_head(last).float(), -1)

        best = beam_search(step_logprobs, options.num_beams, self.token_budget(sample, max_new_tokens),
                           self.tokenizer.eos_token_id, options.length_penalty)
        sample.pred_text = self._clean_text(best)
        ids, _, embeds, hidden = read([best])
        return self.superlink.gather(hidden, ids, embeds)

    def token_budget(self, sample: VisionLLMDataSample, max_new_tokens: Optional[int] = None) -> int:
        """New tokens a free-generation sample may produce (see ``test_cfg`` in the class docstring;
        ``max_new_tokens`` of the call replaces its ``max_new_tokens``)."""
        cap = max_new_tokens or self.test_cfg['max_new_tokens']
        if isinstance(cap, dict):
            cap = cap.get(sample.metainfo.get('task'), cap['default'])
        groups = sample.metainfo.get('gt_groups')
        if groups:
            answer = ', '.join(f'{name}{token}' for name, token in groups)
            cap = min(cap, len(self.tokenizer(answer, add_special_tokens=False).input_ids) +
                      self.test_cfg['answer_slack'])
        return int(cap)

    def _clean_text(self, ids: List[int]) -> str:
        """Generated ids -> answer text (routing tokens kept, chat specials dropped)."""
        keep = [i for i in ids if i not in self.tokenizer.all_special_ids or i in self.superlink.id_to_family]
        return self.tokenizer.decode(keep).strip()
