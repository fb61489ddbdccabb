"""Query-slot insertion as a small picklable object (the super-link's ``expand``, usable in dataloader workers)."""
from typing import Dict, List, Sequence, Tuple


class SlotExpander:
    """Insert ``num_queries`` placeholder ids after every routing token id (labels: ``ignore_index``)."""

    def __init__(self, id_to_family: Dict[int, str], num_queries: Dict[str, int], placeholder_id: int):
        self.id_to_family, self.num_queries, self.placeholder_id = dict(id_to_family), dict(num_queries), placeholder_id

    def __call__(self, ids: Sequence[int], labels: Sequence[int], ignore_index: int = -100
                 ) -> Tuple[List[int], List[int]]:
        out_ids, out_labels = [], []
        for i, lab in zip(ids, labels):
            out_ids.append(i)
            out_labels.append(lab)
            f = self.id_to_family.get(i)
            if f is not None:
                q = self.num_queries[f]
                out_ids.extend([self.placeholder_id] * q)
                out_labels.extend([ignore_index] * q)
        return out_ids, out_labels
