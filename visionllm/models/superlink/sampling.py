"""Next-token choice of free generation: greedy, or sampling with temperature / top-k / top-p and a
repetition penalty (transformers' logits processors), reproducible with a seed."""
from dataclasses import dataclass
from typing import List, Optional

import torch
from torch import Tensor

from visionllm.utils.errors import PromptError


@dataclass
class GenerationOptions:
    """How free generation picks each token.

    Args:
        do_sample: sample from the (processed) distribution instead of taking the most likely token.
        temperature: > 0; divides the logits before sampling.
        top_k: keep the k most likely tokens (0: all).
        top_p: keep the smallest set of tokens whose probability reaches p (1.0: all).
        repetition_penalty: >= 1; divides the logits of tokens already in the sequence (greedy too).
        seed: seeds the sampling generator (None: torch's global generator).
        num_beams: > 1: beam search (:func:`beam_search`; deterministic, no sampling, not streamed).
        length_penalty: beam search ranks finished answers by log-probability / length ** length_penalty.
    """
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: Optional[int] = None
    num_beams: int = 1
    length_penalty: float = 1.0

    def __post_init__(self):
        if not self.temperature > 0:
            raise PromptError(f'temperature must be > 0, got {self.temperature}')
        if not 0 < self.top_p <= 1:
            raise PromptError(f'top_p must be in (0, 1], got {self.top_p}')
        if self.top_k < 0:
            raise PromptError(f'top_k must be >= 0, got {self.top_k}')
        if self.repetition_penalty < 1:
            raise PromptError(f'repetition_penalty must be >= 1, got {self.repetition_penalty}')
        if self.num_beams < 1:
            raise PromptError(f'num_beams must be >= 1, got {self.num_beams}')
        if self.num_beams > 1 and self.do_sample:
            raise PromptError('beam search (num_beams > 1) is deterministic: it cannot be combined with do_sample')


class TokenPicker:
    """Picks the next token of each sequence from its logits [B, V] (see :class:`GenerationOptions`)."""

    def __init__(self, options: Optional[GenerationOptions] = None, device=None):
        from transformers.generation.logits_process import (
            LogitsProcessorList,
            RepetitionPenaltyLogitsProcessor,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )
        self.options = o = options or GenerationOptions()
        procs = []
        if o.repetition_penalty != 1.0:
            procs.append(RepetitionPenaltyLogitsProcessor(o.repetition_penalty))
        if o.do_sample:
            if o.temperature != 1.0:
                procs.append(TemperatureLogitsWarper(o.temperature))
            if o.top_k:
                procs.append(TopKLogitsWarper(o.top_k))
            if o.top_p < 1.0:
                procs.append(TopPLogitsWarper(o.top_p))
        self.processors = LogitsProcessorList(procs)
        self.generator = None
        if o.do_sample and o.seed is not None:
            self.generator = torch.Generator(device=device or 'cpu').manual_seed(int(o.seed))

    def __call__(self, logits: Tensor, sequences: List[List[int]]) -> List[int]:
        """logits [B, V], each row's token ids so far -> the next token id of each row."""
        if self.processors:
            rows = []
            for b, seq in enumerate(sequences):  # rows differ in length: process them one by one
                ids = torch.tensor([seq or [0]], dtype=torch.long, device=logits.device)
                rows.append(self.processors(ids, logits[b:b + 1].float()))
            logits = torch.cat(rows)
        if not self.options.do_sample:
            return logits.argmax(-1).tolist()
        probs = torch.softmax(logits.float(), -1)
        return torch.multinomial(probs, 1, generator=self.generator).flatten().tolist()
