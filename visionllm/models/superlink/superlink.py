"""Super-link: routing tokens, per-family learnable query banks, insertion and gathering.

A routing token (``[DET]`` ...) in the text is followed by Q placeholder slots (``[EMB]``) whose
embeddings are the family's query bank; the LLM's last-layer hidden states at those slots become
the family's :class:`TaskConditions`. Token ids are resolved one by one from the tokenizer.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions
from visionllm.utils.errors import ConfigError
from visionllm.utils.names import NAME_DELIMITERS, unescape_name

from .slots import SlotExpander


def scale_grad(x: Tensor, scale: float) -> Tensor:
    """``x`` in the forward pass; its gradient times ``scale`` in the backward pass."""
    if scale == 1.0 or not x.requires_grad:
        return x
    detached = x.detach()
    return detached if scale == 0.0 else detached + (x - detached) * scale  # forward: exactly x


@MODELS.register_module()
class SuperLink(BaseModule):
    """Routing-token table and query banks (one bank per decoder family, never shared).

    Args:
        families: ``{family: dict(tokens=[routing tokens], num_queries=Q)}``, e.g.
            ``dict(det=dict(tokens=['[DET]', '[GRD]'], num_queries=8), gen=dict(tokens=['[GEN]'],
            num_queries=64))``.
        placeholder: the query-slot token.
        slot_attention: ``'group'``: query slots attend only to their own group (the name before the
            routing token, the routing token and the group's earlier slots), so a group's condition is a
            function of its name alone, whatever else the prompt lists; and the slots are a side branch of
            the text: text tokens do not attend to them, text positions (RoPE) do not count them, and the
            token after a group is predicted at its routing token, which sees the whole request and the
            names written so far (:meth:`position_ids`, :meth:`next_token_targets`). ``'causal'``: plain
            causal attention over the whole sequence, slots included (VisionLLM v2's choice, suited to a
            pretrained LLM); the token after a group is then predicted at its last slot.
        decoder_grad_scale: factor on the gradient the decoders' losses send back into the LLM through the
            conditions (slot hidden states and name embeddings); the forward pass is unchanged. 1.0: plain
            end-to-end training; below 1, the LLM's own (language-model) gradient is not swamped by the
            decoders' (which reach its tied token embeddings through every name); 0: the decoders read the
            LLM without training it (the query banks then get no gradient either).
    """

    def __init__(self, families: Dict[str, dict], placeholder: str = '[EMB]', slot_attention: str = 'group',
                 decoder_grad_scale: float = 1.0, init_cfg=None):
        super().__init__(init_cfg)
        if slot_attention not in ('group', 'causal'):
            raise ConfigError(f"superlink.slot_attention must be 'group' or 'causal', got {slot_attention!r}")
        if not 0.0 <= float(decoder_grad_scale) <= 1.0:
            raise ConfigError(f'superlink.decoder_grad_scale must be in [0, 1], got {decoder_grad_scale!r}')
        self.slot_attention = slot_attention
        self.decoder_grad_scale = float(decoder_grad_scale)
        self.families = {f: dict(tokens=list(c['tokens']), num_queries=int(c['num_queries']))
                         for f, c in families.items()}
        seen = {}
        for f, c in self.families.items():
            for t in c['tokens']:
                if t in seen:
                    raise ConfigError(f'routing token {t} is given to families {seen[t]} and {f}')
                seen[t] = f
        self.token_to_family = seen
        self.placeholder = placeholder
        self.banks = nn.ParameterDict()
        self.tokenizer = None

    @property
    def special_tokens(self) -> List[str]:
        return [*self.token_to_family, self.placeholder]

    # ---- binding to the tokenizer / LLM width ----------------------------------------------------
    def bind(self, tokenizer, embed_dims: int, init_std: float = 0.02, name_tokens: Sequence[str] = ()) -> None:
        """Resolve token ids explicitly and create the banks ``[Q, embed_dims]`` per family. ``name_tokens``:
        special tokens that may be a group's name (``<region>``: a visual prompt names the group)."""
        self.tokenizer = tokenizer
        vocab = tokenizer.get_vocab()
        missing = [t for t in self.special_tokens if t not in vocab]
        if missing:
            raise ConfigError(f'tokenizer lacks super-link tokens {missing}; add them before bind()')
        self.placeholder_id = vocab[self.placeholder]
        self.id_to_family = {vocab[t]: f for t, f in self.token_to_family.items()}
        self._expander = None
        self.id_to_token = {vocab[t]: t for t in self.token_to_family}
        for f, c in self.families.items():
            if f not in self.banks:
                self.banks[f] = nn.Parameter(torch.randn(c['num_queries'], embed_dims) * init_std)
        self.name_token_ids = {vocab[t] for t in name_tokens}
        self._special_ids = (set(tokenizer.all_special_ids) | set(self.id_to_family) | {self.placeholder_id}) \
            - self.name_token_ids
        self._boundary: Dict[int, bool] = {}

    def num_queries(self, family: str) -> int:
        return self.families[family]['num_queries']

    def queries_for_token(self, token_id: int) -> Optional[Tensor]:
        """The bank [Q, D] that follows ``token_id``, or None if it is not a routing token."""
        f = self.id_to_family.get(int(token_id))
        return None if f is None else self.banks[f]

    # ---- sequences ----------------------------------------------------------------------------------
    def expand(self, ids: Sequence[int], labels: Sequence[int], ignore_index: int = -100
               ) -> Tuple[List[int], List[int]]:
        """Insert Q placeholder slots after every routing token; slots get ``ignore_index`` labels."""
        return self.slot_expander()(ids, labels, ignore_index)

    def slot_expander(self) -> SlotExpander:
        """The slot insertion as a picklable object (no parameters), for dataloader workers."""
        if getattr(self, '_expander', None) is None:
            self._expander = SlotExpander(self.id_to_family, {f: c['num_queries'] for f, c in self.families.items()},
                                          self.placeholder_id)
        return self._expander

    def routing_positions(self, input_ids: Tensor) -> List[Tuple[int, int, str]]:
        """(sample, position, family) of every routing token in [B, L] ids."""
        route_ids = torch.tensor(list(self.id_to_family), device=input_ids.device)
        b, p = torch.isin(input_ids, route_ids).nonzero(as_tuple=True)
        return [(bi, pi, self.id_to_family[t])
                for bi, pi, t in zip(b.tolist(), p.tolist(), input_ids[b, p].tolist())]

    def _slots(self, input_ids: Tensor):
        """Per family, in order of first appearance: (sample idx [G], slot positions [G, Q], routing
        positions list). A few tensor ops per family, whatever the number of groups."""
        groups: Dict[str, List[Tuple[int, int]]] = {}
        for b, p, f in self.routing_positions(input_ids):
            groups.setdefault(f, []).append((b, p))
        L, dev = input_ids.shape[1], input_ids.device
        out = {}
        for f, bp in groups.items():
            q = self.families[f]['num_queries']
            b = torch.tensor([x[0] for x in bp], device=dev)
            route_pos = [x[1] for x in bp]
            pos = torch.tensor(route_pos, device=dev)[:, None] + 1 + torch.arange(q, device=dev)
            ok = (pos[:, -1] < L) & (input_ids[b[:, None], pos.clamp(max=L - 1)] == self.placeholder_id).all(1)
            if not bool(ok.all()):
                g = int((~ok).nonzero()[0])
                bi, p = bp[g]
                raise ValueError(f'routing token {self.id_to_token[int(input_ids[bi, p])]} at sample {bi} '
                                 f'position {p} is not followed by {q} query slots; use expand()')
            out[f] = (b, pos, route_pos)
        return out

    def insert(self, inputs_embeds: Tensor, input_ids: Tensor) -> Tensor:
        """Put each family's bank into its slots: [B, L, D] -> [B, L, D]."""
        slots = self._slots(input_ids)
        if not slots:
            return inputs_embeds
        out = inputs_embeds.clone()
        for f, (b, pos, _) in slots.items():
            bank = self.banks[f].to(out.dtype)
            out[b[:, None].expand_as(pos), pos] = bank[None].expand(len(b), -1, -1)
        return out

    def gather(self, hidden: Tensor, input_ids: Tensor, inputs_embeds: Optional[Tensor] = None
               ) -> Dict[str, TaskConditions]:
        """Hidden states [B, L, D] at the slots -> ``{family: TaskConditions}`` (names read from ids).

        With the LLM's input embeddings [B, L, D], each group also gets the mean embedding of its
        name's tokens (``TaskConditions.name_embeddings``). Both carry ``decoder_grad_scale`` back.
        """
        out = {}
        rows = input_ids.tolist()
        hidden = scale_grad(hidden, self.decoder_grad_scale)
        if inputs_embeds is not None:
            inputs_embeds = scale_grad(inputs_embeds, self.decoder_grad_scale)
        for f, (b, pos, route_pos) in self._slots(input_ids).items():
            emb = hidden[b[:, None].expand_as(pos), pos]
            starts = [self.name_start(rows[bi], p) for bi, p in zip(b.tolist(), route_pos)]
            names = [self.group_name(rows[bi], p, s) for bi, s, p in zip(b.tolist(), starts, route_pos)]
            tokens = [self.id_to_token[rows[bi][p]] for bi, p in zip(b.tolist(), route_pos)]
            name_emb = None
            if inputs_embeds is not None:
                spans = [self._name_token_span(rows[bi], s, p) for bi, s, p in zip(b.tolist(), starts, route_pos)]
                name_emb = self.span_means(inputs_embeds, [(bi, s, e) for bi, (s, e) in zip(b.tolist(), spans)])
            out[f] = TaskConditions(emb, b, names, tokens, name_emb)
        return out

    def _name_token_span(self, ids: Sequence[int], start: int, end: int) -> Tuple[int, int]:
        """The name's span [start, end), narrowed to its name tokens (``<region>``) when it has any, so that a
        visual prompt's embedding is not averaged with the spaces around it."""
        at = [t for t in range(start, end) if int(ids[t]) in self.name_token_ids]
        return (at[0], at[-1] + 1) if at else (start, end)

    @staticmethod
    def span_means(embeds: Tensor, spans: Sequence[Tuple[int, int, int]]) -> Tensor:
        """Mean of ``embeds[b, start:end]`` [B, L, D] for each (b, start, end) -> [G, D] (zeros for an
        empty span), with one gather and one index_add (so one node in the backward pass)."""
        L, D = embeds.shape[1:]
        flat = [b * L + t for b, s, e in spans for t in range(s, e)]
        seg = [g for g, (_, s, e) in enumerate(spans) for _ in range(s, e)]
        dev = embeds.device
        sums = embeds.new_zeros(len(spans), D).index_add_(
            0, torch.tensor(seg, dtype=torch.long, device=dev),
            embeds.reshape(-1, D)[torch.tensor(flat, dtype=torch.long, device=dev)])
        counts = torch.tensor([max(e - s, 1) for _, s, e in spans], dtype=embeds.dtype, device=dev)
        return sums / counts[:, None]

    # ---- names ----------------------------------------------------------------------------------------
    def _is_boundary(self, token_id: int) -> bool:
        if token_id not in self._boundary:
            text = self.tokenizer.decode([token_id])
            self._boundary[token_id] = token_id in self._special_ids or any(d in text for d in NAME_DELIMITERS)
        return self._boundary[token_id]

    def name_start(self, ids: Sequence[int], route_pos: int) -> int:
        """Index of the first token of the group name that ends before ``route_pos``."""
        start = route_pos
        while start > 0 and not self._is_boundary(int(ids[start - 1])):
            start -= 1
        return start

    def group_name(self, ids: Sequence[int], route_pos: int, start: Optional[int] = None) -> str:
        """The text between the previous delimiter / special token (or ``start``, if known) and the
        routing token, unescaped (:func:`visionllm.utils.names.unescape_name`)."""
        start = self.name_start(ids, route_pos) if start is None else start
        return unescape_name(self.tokenizer.decode(list(ids[start:route_pos])).strip())

    # ---- the text's view of the sequence (slots as a side branch under 'group') ---------------------------
    @property
    def slots_beside_text(self) -> bool:
        """True when text tokens neither see nor count the query slots (``slot_attention='group'``)."""
        return self.slot_attention == 'group'

    def position_ids(self, input_ids: Tensor, padding_mask: Tensor) -> Optional[Tensor]:
        """Position ids [B, L] (left or right padding): text tokens numbered without the slots, the k-th slot
        of a group at its routing token's position + 1 + k; None (the LLM's own 0..L-1) under ``'causal'``."""
        if not self.slots_beside_text:
            return None
        slot = input_ids == self.placeholder_id
        text = ~slot & padding_mask.bool()
        pos = text.long().cumsum(1) - 1
        seen = slot.long().cumsum(1)
        since_text = seen - torch.where(text, seen, torch.zeros_like(seen)).cummax(1).values  # k + 1 on slot k
        return (pos + torch.where(slot, since_text, torch.zeros_like(pos))).clamp(min=0)

    def next_token_targets(self, input_ids: Tensor, labels: Tensor, ignore_index: int = -100) -> Tensor:
        """Next-token targets [B, L] of labels [B, L]: position i learns the label of the next position; under
        ``'group'`` the next *text* position, so a routing token learns the token after its group's slots,
        and slots learn nothing."""
        target = torch.full_like(labels, ignore_index)
        if not self.slots_beside_text:
            target[:, :-1] = labels[:, 1:]
            return target
        B, L = input_ids.shape
        slot = input_ids == self.placeholder_id
        idx = torch.where(slot, L, torch.arange(L, device=input_ids.device).expand(B, L))
        nearest = torch.flip(torch.cummin(torch.flip(idx, [1]), 1).values, [1])  # first text index >= i
        nxt = torch.cat([nearest[:, 1:], torch.full_like(nearest[:, :1], L)], 1)  # first text index > i
        ok = (nxt < L) & ~slot
        target[ok] = labels.gather(1, nxt.clamp(max=L - 1))[ok]
        return target

    def last_text_index(self, input_ids: Tensor, padding_mask: Tensor) -> Tensor:
        """Index [B] of each row's last real position whose hidden state predicts the next token: the last
        real token, or under ``'group'`` the last real text token (a routing token rather than its slots)."""
        real = padding_mask.bool()
        if self.slots_beside_text:
            real = real & (input_ids != self.placeholder_id)
        col = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
        return torch.where(real, col, torch.full_like(col, -1)).max(1).values

    # ---- attention ----------------------------------------------------------------------------------
    def attention_mask(self, input_ids: Tensor, padding_mask: Tensor) -> Tensor:
        """LLM attention mask for ids [B, L] and a 2D padding mask [B, L]. With ``slot_attention='group'``:
        [B, 1, L, L] (bool, True = may attend), causal over real tokens, every row sees itself, text rows no
        slot, each query slot only its group (see class docstring). With ``'causal'``: the 2D padding mask
        itself, so the LLM builds its own causal mask and SDPA / FlashAttention kernels take their causal
        fast path."""
        if self.slot_attention == 'causal':
            return padding_mask
        B, L = input_ids.shape
        dev = input_ids.device
        mask = torch.ones(L, L, dtype=torch.bool, device=dev).tril()[None] & padding_mask.bool()[:, None, :]
        mask &= ~(input_ids == self.placeholder_id)[:, None, :]  # text rows: no slot (slot rows are set below)
        mask |= torch.eye(L, dtype=torch.bool, device=dev)[None]
        if self.slot_attention == 'group':
            rows = input_ids.tolist()
            col = torch.arange(L, device=dev)
            for b, pos, route_pos in self._slots(input_ids).values():
                starts = torch.tensor([self.name_start(rows[bi], p) for bi, p in zip(b.tolist(), route_pos)],
                                      device=dev)
                # slot j of a group sees its name, its routing token and slots 0..j: columns start .. pos[j]
                mask[b[:, None].expand_as(pos), pos] = (col >= starts[:, None, None]) & (col <= pos[..., None])
        return mask[:, None]
