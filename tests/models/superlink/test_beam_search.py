import math

import torch

from visionllm.models.superlink.beam_search import beam_search

EOS = 2


def _markov(table):
    """step_logprobs of a first-order chain over 3 tokens (0, 1, EOS=2): the next token's probabilities
    depend on the last token only (start: row 'start')."""
    def step(gens):
        rows = [table[g[-1] if g else 'start'] for g in gens]
        return torch.log(torch.tensor(rows, dtype=torch.float64))
    return step


def test_beam_search_finds_the_answer_greedy_misses():
    # greedy: 0 (0.6) then 0 / 1 (0.45 each) ... never ends early; best sequence: 1, EOS (0.4 * 0.9 = 0.36)
    table = {'start': [0.6, 0.4, 0.0], 0: [0.45, 0.45, 0.1], 1: [0.05, 0.05, 0.9]}
    step = _markov(table)
    assert beam_search(step, 1, 6, EOS, length_penalty=0.0)[0] == 0  # one beam = greedy
    best = beam_search(step, 2, 6, EOS, length_penalty=0.0)
    assert best == [1, EOS]
    # with the budget reached and nothing finished, the most probable open beam is returned
    table2 = {'start': [0.7, 0.3, 0.0], 0: [0.8, 0.2, 0.0], 1: [0.1, 0.9, 0.0]}
    out = beam_search(_markov(table2), 2, 3, EOS, length_penalty=0.0)
    assert out == [0, 0, 0] and math.isclose(0.7 * 0.8 * 0.8, 0.448)
