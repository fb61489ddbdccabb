"""TaskConditions: the super-link's output handed to one decoder family."""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch


@dataclass
class TaskConditions:
    """Query hidden states of every routing group of one decoder family in a batch.

    Attributes:
        embeddings: ``[G, Q, D]`` LLM last-layer hidden states at the group's query slots.
        batch_idx: ``[G]`` index of the sample (in the batch given to the decoder) of each group.
        names: ``G`` texts that precede the routing token (class name, phrase, keypoint name).
        tokens: ``G`` routing tokens (``'[DET]'`` ...), one per group.
        name_embeddings: ``[G, D]`` mean LLM input embedding of each group name's tokens (zeros for an
            empty name), or None where there is no text name (e.g. a closed-set class table).
    """
    embeddings: torch.Tensor
    batch_idx: torch.Tensor
    names: List[str] = field(default_factory=list)
    tokens: List[str] = field(default_factory=list)
    name_embeddings: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return self.embeddings.shape[0]

    def select(self, keep: torch.Tensor) -> 'TaskConditions':
        """Groups where the bool mask ``keep`` [G] is True."""
        idx = keep.nonzero().flatten().tolist()
        return TaskConditions(self.embeddings[keep], self.batch_idx[keep],
                              [self.names[i] for i in idx], [self.tokens[i] for i in idx],
                              None if self.name_embeddings is None else self.name_embeddings[keep])

    def for_sample(self, i: int) -> 'TaskConditions':
        return self.select(self.batch_idx == i)

    def remap_samples(self, new_index: torch.Tensor) -> 'TaskConditions':
        """Renumber samples: ``batch_idx <- new_index[batch_idx]``."""
        return TaskConditions(self.embeddings, new_index[self.batch_idx], self.names, self.tokens,
                              self.name_embeddings)

    @staticmethod
    def cat(parts: Sequence['TaskConditions']) -> 'TaskConditions':
        """Concatenate groups of several parts (name embeddings kept only if every part has them)."""
        names = [p.name_embeddings for p in parts]
        return TaskConditions(torch.cat([p.embeddings for p in parts]), torch.cat([p.batch_idx for p in parts]),
                              sum([p.names for p in parts], []), sum([p.tokens for p in parts], []),
                              None if any(n is None for n in names) else torch.cat(names))
