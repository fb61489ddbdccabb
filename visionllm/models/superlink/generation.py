"""Free generation with query insertion into the KV cache (batch > 1, several routes per answer).

Each step feeds every sample its pending inputs: the last generated token, followed by the family's
query bank when that token is a routing token. Samples with fewer pending inputs are right-padded
inside the step and the padding is masked out of the attention for all later steps; position ids
count only real inputs, so every sample sees exactly the sequence it would see alone. Inserted slots
get the same attention pattern and positions as in training (``SuperLink.attention_mask`` /
``position_ids``); with slots beside the text (``slot_attention='group'``) the token after a routing
token is read at the routing token, and later tokens do not attend to the slots.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor

from visionllm.structures import TaskConditions

from .sampling import TokenPicker


@dataclass
class FreeGenerationOutput:
    """Generated ids per sample (routing tokens kept, slots not included), and conditions."""
    token_ids: List[List[int]]
    conditions: Dict[str, TaskConditions] = field(default_factory=dict)


@torch.no_grad()
def generate_with_queries(mllm, superlink, inputs_embeds: Tensor, attention_mask: Tensor,
                          prompt_ids: Tensor, max_new_tokens: Union[int, Sequence[int]] = 64,
                          eos_token_id: int = None, picker: Optional[TokenPicker] = None,
                          streamer: Optional[Callable[[int, int], None]] = None) -> FreeGenerationOutput:
    """Generation from left-padded prompts (greedy unless ``picker`` samples).

    Args:
        inputs_embeds: [B, L, D] prompt embeddings (image tokens and any prompt slots filled).
        attention_mask: [B, L] 1 for real prompt tokens (left padding is 0).
        prompt_ids: [B, L] prompt ids (for reading group names that start in the prompt).
        max_new_tokens: the generated-token budget, for all samples or one per sample; a sample stops at
            its end-of-answer token or its budget (inserted query slots do not count).
        picker: chooses each next token (:class:`TokenPicker`; default greedy).
        streamer: called as ``streamer(b, token_id)`` for every token generated for sample b, as it comes.
    """
    B = inputs_embeds.shape[0]
    budgets = [int(max_new_tokens)] * B if isinstance(max_new_tokens, int) else [int(n) for n in max_new_tokens]
    dev = inputs_embeds.device
    mask = attention_mask.long()
    pos = superlink.position_ids(prompt_ids, mask)
    if pos is None:
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
    last_idx = superlink.last_text_index(prompt_ids, mask)
    _, logits, cache = mllm.forward_llm(inputs_embeds, superlink.attention_mask(prompt_ids, mask), pos,
                                        use_cache=True, logits_mask=_at(last_idx, inputs_embeds.shape[1]))
    beside = superlink.slots_beside_text  # later text sees no slot: their KV entries leave the 2D mask
    if beside:
        mask = mask * (prompt_ids != superlink.placeholder_id)
    # KV-cache index of every token of each sample's sequence (prompt + generated), for group masks
    token_kv = [attention_mask[b].nonzero().flatten().tolist() for b in range(B)]
    next_pos = pos.gather(1, last_idx[:, None])[:, 0] + 1
    out_ids: List[List[int]] = [[] for _ in range(B)]
    done = [False] * B
    groups: Dict[str, list] = {}
    prompt_lists = [prompt_ids[b][attention_mask[b].bool()].tolist() for b in range(B)]
    picker = picker or TokenPicker(device=dev)
    for _ in range(max(budgets)):
        tok = picker(logits, [prompt_lists[b] + out_ids[b] for b in range(B)])
        steps = []
        for b in range(B):
            if done[b] or len(out_ids[b]) >= budgets[b]:  # its last token (a route: with its queries) is in
                done[b] = True
                steps.append([])
                continue
            out_ids[b].append(tok[b])
            if streamer is not None:
                streamer(b, tok[b])
            if tok[b] == eos_token_id:
                done[b] = True
                steps.append([])
                continue
            steps.append([tok[b]])
        if not any(steps):
            break
        n = torch.tensor([len(s) for s in steps], device=dev)
        tok_embeds = mllm.embed_tokens(torch.tensor([s[0] if s else 0 for s in steps], device=dev)[:, None])
        banks = [superlink.queries_for_token(s[0]) if s else None for s in steps]
        n = n + torch.tensor([0 if q is None else q.shape[0] for q in banks], device=dev)
        width = int(n.max())
        step = tok_embeds.new_zeros(B, width, tok_embeds.shape[-1])
        step[:, :1] = tok_embeds
        for b, q in enumerate(banks):
            if q is not None:
                step[b, 1:1 + q.shape[0]] = q.to(step.dtype)
        step_mask = (torch.arange(width, device=dev)[None] < n[:, None]).long()
        step_pos = next_pos[:, None] + torch.arange(width, device=dev)[None]
        past = mask.shape[1]
        mask = torch.cat([mask, step_mask], 1)
        for b, st in enumerate(steps):
            if st:
                token_kv[b].append(past)
        attn = mask
        if any(q is not None for q in banks):
            attn = _step_mask(superlink, mask, past, width, banks, steps, prompt_lists, out_ids, token_kv)
        # the next token is read at the step's token (a routing token, not its slots) when slots are beside text
        hidden, logits, cache = mllm.forward_llm(step, attn, step_pos, cache=cache, use_cache=True,
                                                 logits_mask=_at(torch.zeros_like(n) if beside else
                                                                 (n - 1).clamp(min=0), width))
        next_pos = next_pos + ((n > 0).long() if beside else n)
        for b, q in enumerate(banks):
            if q is not None:
                if beside:
                    mask[b, past + 1:past + 1 + q.shape[0]] = 0
                f = superlink.id_to_family[steps[b][0]]
                seq = prompt_lists[b] + out_ids[b]
                start = superlink.name_start(seq, len(seq) - 1)
                name_ids = torch.tensor(seq[start:len(seq) - 1], dtype=torch.long, device=dev)
                groups.setdefault(f, []).append((hidden[b, 1:1 + q.shape[0]], b,
                                                 superlink.group_name(seq, len(seq) - 1, start),
                                                 superlink.id_to_token[steps[b][0]],
                                                 superlink.span_means(mllm.embed_tokens(name_ids)[None],
                                                                     [(0, 0, len(name_ids))])[0]))
    conds = {f: TaskConditions(torch.stack([g[0] for g in gs]), torch.tensor([g[1] for g in gs], device=dev),
                               [g[2] for g in gs], [g[3] for g in gs], torch.stack([g[4] for g in gs]))
             for f, gs in groups.items()}
    return FreeGenerationOutput(out_ids, conds)


def _step_mask(superlink, mask: Tensor, past: int, width: int, banks, steps, prompt_lists, out_ids, token_kv
               ) -> Tensor:
    """[B, 1, width, past + width] mask of a step that inserts query banks (see module docstring)."""
    B, K = mask.shape
    dev = mask.device
    m = mask.bool()[:, None, :].expand(B, width, K).clone()
    m[:, :, past:] &= torch.ones(width, width, dtype=torch.bool, device=dev).tril()
    m[:, torch.arange(width), past + torch.arange(width)] = True
    if superlink.slot_attention == 'group':
        for b, q in enumerate(banks):
            if q is None:
                continue
            seq = prompt_lists[b] + out_ids[b]
            start = token_kv[b][superlink.name_start(seq, len(seq) - 1)]
            nq = q.shape[0]
            m[b, 1:1 + nq] = False
            m[b, 1:1 + nq, start:past + 1] = mask[b, start:past + 1].bool()
            m[b, 1:1 + nq, past + 1:past + 1 + nq] = torch.ones(nq, nq, dtype=torch.bool, device=dev).tril()
    return m[:, None]


def _at(idx: Tensor, width: int) -> Tensor:
    """Bool mask [B, width] selecting position idx[b] of each row."""
    return torch.arange(width, device=idx.device)[None] == idx[:, None]
