import torch

from tests.conftest import tiny_model_cfg
from visionllm.models.length_buckets import length_buckets
from visionllm.registry import MODELS


def test_length_buckets_minimise_padding():
    # three 503-token detection answers among five short ones: 4024 padded tokens -> 5 * 173 + 3 * 503
    assert length_buckets([503, 173, 503, 128, 143, 83, 503, 158]) == [[1, 3, 4, 5, 7], [0, 2, 6]]
    assert length_buckets([100, 90, 100]) == [[0, 1, 2]]  # splitting would save under 20 %
    # a third bucket that saves one token is not worth a forward
    assert length_buckets([10, 50, 11, 49], max_buckets=3) == [[0, 2], [1, 3]]
    assert length_buckets([10, 50, 11, 49], max_buckets=1) == [[0, 1, 2, 3]]
    assert length_buckets([7]) == [[0]] and length_buckets([]) == []


def test_bucketed_llm_matches_one_padded_batch(tokenizer_dir):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tokenizer_dir))
    model.init_weights()
    tok = model.tokenizer
    texts = ['Here are the results: red circle[DET], blue square[DET], green star[DET].', 'A red circle.', 'Yes.',
             'Here are the results: purple cross[DET].']
    token_ids = [tok(t, add_special_tokens=False).input_ids for t in texts]
    seqs = [model.superlink.expand(t, list(t))[0] for t in token_ids]
    ids = model._pad(seqs, tok.pad_token_id, left=False)
    mask = model._pad([[1] * len(s) for s in seqs], 0, left=False)
    assert len(length_buckets(mask.sum(1).tolist(), 2)) == 2  # the batch is really split
    valid = mask.bool()
    outs, grads = [], []
    for buckets in (1, 2):
        model.zero_grad()
        model.llm_length_buckets = buckets
        hidden = model.llm_hidden_states(model.embed(ids, None), ids, mask)
        assert hidden.shape == (*ids.shape, model.mllm.hidden_size)
        hidden[valid].pow(2).sum().backward()
        outs.append(hidden[valid].detach())
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    assert grads[0].keys() == grads[1].keys() and any('banks' in n for n in grads[0])
    for n in grads[0]:
        assert torch.allclose(grads[0][n], grads[1][n], atol=1e-4, rtol=1e-3), n
