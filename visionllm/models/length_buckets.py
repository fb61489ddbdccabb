"""Length buckets for the LLM's training forward: a batch mixing a 500-token detection answer with
150-token captions pads every row to 500; running similar lengths together, each bucket trimmed to its
own longest row (right padding), skips most of that padding. The result is the same (padding is masked)."""
from typing import List, Sequence


def length_buckets(lengths: Sequence[int], max_buckets: int = 2, min_saving: float = 0.2) -> List[List[int]]:
    """Split sample indices into at most ``max_buckets`` groups of similar length.

    Groups are contiguous runs of the samples sorted by length, chosen to minimise the padded token
    count sum_g (n_g * longest_g). One group (all samples, in order) when that saves less than
    ``min_saving`` of the unsplit count ``B * longest`` (and a further group only when it saves that
    much again), since every bucket is a separate forward.
    """
    B = len(lengths)
    if B == 0:
        return []
    order = sorted(range(B), key=lambda i: lengths[i])
    ls = [lengths[i] for i in order]
    k_max = max(1, min(max_buckets, B))
    inf = float('inf')
    # cost[k][j]: best padded count of the first j sorted samples in k groups; cut[k][j]: start of the last group
    cost = [[inf] * (B + 1) for _ in range(k_max + 1)]
    cut = [[0] * (B + 1) for _ in range(k_max + 1)]
    cost[0][0] = 0
    for k in range(1, k_max + 1):
        for j in range(1, B + 1):
            for i in range(k - 1, j):
                c = cost[k - 1][i] + (j - i) * ls[j - 1]
                if c < cost[k][j]:
                    cost[k][j], cut[k][j] = c, i
    best_k = 1  # each further bucket (another forward) must save min_saving of the unsplit count
    for k in range(2, k_max + 1):
        if cost[k][B] <= cost[best_k][B] - min_saving * B * ls[-1]:
            best_k = k
    if best_k == 1:
        return [list(range(B))]
    groups, j = [], B
    for k in range(best_k, 0, -1):
        i = cut[k][j]
        groups.append(sorted(order[i:j]))
        j = i
    return groups[::-1]
