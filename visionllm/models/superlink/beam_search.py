"""Beam search for free generation. Every step re-reads each beam's whole sequence with its query slots
inserted after its routing tokens (as in training), so a beam that routes continues exactly as greedy
generation with query insertion would; no KV cache (answers are short; the cost is O(length^2))."""
from typing import Callable, List, Optional

import torch
from torch import Tensor


@torch.no_grad()
def beam_search(step_logprobs: Callable[[List[List[int]]], Tensor], num_beams: int, max_new_tokens: int,
                eos_token_id: Optional[int], length_penalty: float = 1.0) -> List[int]:
    """The best continuation (token ids, end token included if reached).

    Args:
        step_logprobs: generated ids of each beam -> next-token log-probabilities [n_beams, V] (the model
            reads prompt + those ids).
        num_beams: beams kept per step (and continuations considered per beam).
        length_penalty: finished beams are ranked by total log-probability / length ** length_penalty.
    """
    beams: List[tuple] = [(0.0, [])]  # (sum of log-probabilities, ids)
    finished: List[tuple] = []
    for _ in range(max_new_tokens):
        logp = step_logprobs([ids for _, ids in beams])
        top = logp.topk(min(num_beams, logp.shape[-1]), dim=-1)
        cands = [(score + float(v), ids + [int(t)])
                 for (score, ids), vals, toks in zip(beams, top.values, top.indices) for v, t in zip(vals, toks)]
        cands.sort(key=lambda c: -c[0])
        beams = []
        for score, ids in cands:
            if ids[-1] == eos_token_id:
                finished.append((score / len(ids) ** length_penalty, ids))
            else:
                beams.append((score, ids))
            if len(beams) == num_beams:
                break
        best_open = max((s / len(i) ** length_penalty for s, i in beams), default=float('-inf'))
        if len(finished) >= num_beams and max(f[0] for f in finished) >= best_open or not beams:
            break
    finished += [(s / len(i) ** length_penalty, i) for s, i in beams]  # budget reached: open beams count too
    return max(finished, key=lambda f: f[0])[1]
