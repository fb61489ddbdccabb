"""TaskConditions: the super-link's output handed to one decoder family."""
from dataclasses import dataclass, field
from typing import List

import torch


@dataclass
class TaskConditions:
    """Query hidden states of every routing group of one decoder family in a batch.

    Attributes:
        embeddings: ``[G, Q, D]`` LLM last-layer hidden states at the group's query slots.
        batch_idx: ``[G]`` index of the sample (in the batch given to the decoder) of each group.
        names: ``G`` texts that precede the routing token (class name, phrase, keypoint name).
        tokens: ``G`` routing tokens (``'[DET]'`` ...), one per group.
    """
    embeddings: torch.Tensor
    batch_idx: torch.Tensor
    names: List[str] = field(default_factory=list)
    tokens: List[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.embeddings.shape[0]

    def select(self, keep: torch.Tensor) -> 'TaskConditions':
        """Groups where the bool mask ``keep`` [G] is True."""
        idx = keep.nonzero().flatten().tolist()
        return TaskConditions(self.embeddings[keep], self.batch_idx[keep],
                              [self.names[i] for i in idx], [self.tokens[i] for i in idx])

    def for_sample(self, i: int) -> 'TaskConditions':
        return self.select(self.batch_idx == i)

    def remap_samples(self, new_index: torch.Tensor) -> 'TaskConditions':
        """Renumber samples: ``batch_idx <- new_index[batch_idx]``."""
        return TaskConditions(self.embeddings, new_index[self.batch_idx], self.names, self.tokens)
