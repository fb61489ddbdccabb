import pytest
import torch

from visionllm.models.superlink import SuperLink, generate_with_queries
from visionllm.registry import MODELS
from tests.conftest import tiny_model_cfg


@pytest.fixture(scope='module')
def model(tokenizer_dir):
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg(tokenizer_dir)).eval()


def test_token_ids_resolved_explicitly(model):
    sl, tok = model.superlink, model.tokenizer
    for t, f in sl.token_to_family.items():
        assert sl.id_to_family[tok.convert_tokens_to_ids(t)] == f
    assert sl.placeholder_id == tok.convert_tokens_to_ids('[EMB]')
    assert sl.banks['det'].shape == (8, model.mllm.hidden_size)
    assert sl.banks['gen'].shape == (64, model.mllm.hidden_size)


def test_shared_routing_token_is_rejected():
    from visionllm.utils.errors import ConfigError
    with pytest.raises(ConfigError, match='given to families'):
        SuperLink(families=dict(a=dict(tokens=['[DET]'], num_queries=2), b=dict(tokens=['[DET]'], num_queries=2)))


def test_roundtrip_text_ids_insert_gather_names(model):
    sl, tok = model.superlink, model.tokenizer
    text = 'Here are the results: red circle[DET], the leftmost blue square[GRD], sky[SEG].'
    ids = tok(text, add_special_tokens=False).input_ids
    ids2, labels = sl.expand(ids, list(ids))
    assert len(ids2) == len(ids) + 8 * 3
    assert tok.decode(ids2).count('[EMB]') == 24
    slots = [i for i, t in enumerate(ids2) if t == sl.placeholder_id]
    assert all(labels[i] == -100 for i in slots)
    input_ids = torch.tensor([ids2])
    embeds = model.mllm.embed_tokens(input_ids)
    inserted = sl.insert(embeds, input_ids)
    assert torch.equal(inserted[0, slots[:8]], sl.banks['det'].detach())
    assert torch.equal(inserted[0, slots[16:]], sl.banks['seg'].detach())
    not_slot = torch.ones(len(ids2), dtype=torch.bool)
    not_slot[slots] = False
    assert torch.equal(inserted[0, not_slot], embeds[0, not_slot])
    hidden = torch.randn(1, len(ids2), model.mllm.hidden_size)
    conds = sl.gather(hidden, input_ids)
    assert conds['det'].names == ['red circle', 'the leftmost blue square']
    assert conds['det'].tokens == ['[DET]', '[GRD]']
    assert conds['seg'].names == ['sky']
    assert conds['det'].embeddings.shape == (2, 8, model.mllm.hidden_size)
    assert torch.equal(conds['det'].embeddings[0], hidden[0, slots[:8]])
    assert torch.equal(conds['seg'].embeddings[0], hidden[0, slots[16:]])


def test_gather_rejects_missing_slots(model):
    ids = model.tokenizer('a[DET] b', add_special_tokens=False).input_ids
    with pytest.raises(ValueError, match='not followed by 8 query slots'):
        model.superlink.gather(torch.zeros(1, len(ids), model.mllm.hidden_size), torch.tensor([ids]))


def _prompt(model, text):
    ids = model.tokenizer(text, add_special_tokens=False).input_ids
    return ids


def test_free_generation_batch_matches_single_with_several_routes(model):
    """Force routing tokens through a biased lm_head: batch>1 with routes at different steps must give
    the same tokens and the same query states as each sample alone."""
    sl, tok = model.superlink, model.tokenizer
    det = tok.convert_tokens_to_ids('[DET]')
    head = model.mllm.model.lm_head
    orig = head.weight.data.clone()
    torch.manual_seed(1)
    head.weight.data += torch.randn_like(head.weight) * 0.5
    head.weight.data[det] += 2.0  # make [DET] likely, so routes appear mid-answer
    try:
        prompts = [_prompt(model, 'Please detect red circle.'), _prompt(model, 'Please detect the blue square and the two stars now.')]

        def run(batch):
            n = max(len(p) for p in batch)
            ids = torch.tensor([[tok.pad_token_id] * (n - len(p)) + p for p in batch])
            mask = torch.tensor([[0] * (n - len(p)) + [1] * len(p) for p in batch])
            return generate_with_queries(model.mllm, sl, model.embed(ids, None), mask, ids, max_new_tokens=12,
                                         eos_token_id=tok.eos_token_id)

        both = run(prompts)
        for b, p in enumerate(prompts):
            alone = run([p])
            assert both.token_ids[b] == alone.token_ids[0]
            if 'det' in alone.conditions:
                mine = both.conditions['det'].for_sample(b)
                assert mine.names == alone.conditions['det'].names
                assert torch.allclose(mine.embeddings, alone.conditions['det'].embeddings, atol=1e-4)
        n_routes = sum(t == det for ids in both.token_ids for t in ids)
        assert n_routes >= 2 and len(both.conditions['det']) == n_routes
    finally:
        head.weight.data.copy_(orig)
