import pytest
import torch

from tests.conftest import tiny_model_cfg
from visionllm.models.superlink import SuperLink, generate_with_queries
from visionllm.registry import MODELS


@pytest.fixture(scope='module')
def model(tokenizer_dir):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tokenizer_dir))
    model.init_weights()
    return model.eval()


def test_token_ids_resolved_explicitly(model):
    sl, tok = model.superlink, model.tokenizer
    for t, f in sl.token_to_family.items():
        assert sl.id_to_family[tok.convert_tokens_to_ids(t)] == f
    assert sl.placeholder_id == tok.convert_tokens_to_ids('[EMB]')
    assert sl.banks['det'].shape == (8, model.mllm.hidden_size)
    assert sl.banks['gen'].shape == (64, model.mllm.hidden_size)


@pytest.mark.parametrize('scale', [1.0, 0.1, 0.0])
def test_decoder_grad_scale(model, scale):
    """The conditions are the same; the gradient a decoder loss sends back into the LLM (slot states and name
    embeddings) is scaled."""
    from visionllm.utils.errors import ConfigError
    sl, tok = model.superlink, model.tokenizer
    text_ids = tok('Here are the results: red circle[DET].', add_special_tokens=False).input_ids
    ids, _ = sl.expand(text_ids, list(text_ids))
    input_ids = torch.tensor([ids])
    hidden = torch.randn(1, len(ids), model.mllm.hidden_size, requires_grad=True)
    embeds = torch.randn(1, len(ids), model.mllm.hidden_size, requires_grad=True)
    plain = sl.gather(hidden, input_ids, embeds)['det']
    old = sl.decoder_grad_scale
    sl.decoder_grad_scale = scale
    try:
        scaled = sl.gather(hidden, input_ids, embeds)['det']
    finally:
        sl.decoder_grad_scale = old
    assert torch.equal(plain.embeddings, scaled.embeddings)
    assert torch.equal(plain.name_embeddings, scaled.name_embeddings)
    g_plain = torch.autograd.grad((plain.embeddings.sum() + plain.name_embeddings.sum()), (hidden, embeds))
    if scale == 0.0:
        assert not scaled.embeddings.requires_grad and not scaled.name_embeddings.requires_grad
    else:
        g = torch.autograd.grad((scaled.embeddings.sum() + scaled.name_embeddings.sum()), (hidden, embeds))
        for a, b in zip(g, g_plain):
            assert torch.allclose(a, b * scale)
    with pytest.raises(ConfigError, match='decoder_grad_scale'):
        SuperLink(families=dict(det=dict(tokens=['[DET]'], num_queries=2)), decoder_grad_scale=2.0)


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
    assert conds['det'].name_embeddings is None
    # with the input embeddings, each group also gets its name's mean token embedding
    named = sl.gather(hidden, input_ids, inserted)
    name_ids = tok(' the leftmost blue square', add_special_tokens=False).input_ids
    start = ids2.index(sl.placeholder_id) + 8 + 1  # after "[DET]<8 slots>,"
    assert ids2[start:start + len(name_ids)] == name_ids
    assert torch.allclose(named['det'].name_embeddings[1], embeds[0, start:start + len(name_ids)].mean(0))
    assert named['seg'].name_embeddings.shape == (1, model.mllm.hidden_size)
    both = type(named['det']).cat([named['det'], named['det'].remap_samples(torch.tensor([3]))])
    assert both.batch_idx.tolist() == [0, 0, 3, 3] and both.name_embeddings.shape[0] == 4
    assert torch.equal(both.select(both.batch_idx == 3).name_embeddings, named['det'].name_embeddings)


def test_gather_rejects_missing_slots(model):
    ids = model.tokenizer('a[DET] b', add_special_tokens=False).input_ids
    with pytest.raises(ValueError, match='not followed by 8 query slots'):
        model.superlink.gather(torch.zeros(1, len(ids), model.mllm.hidden_size), torch.tensor([ids]))


def _prompt(model, text):
    ids = model.tokenizer(text, add_special_tokens=False).input_ids
    return ids


class ForcedRoutes:
    """Wrap forward_llm: add a large [DET] logit at steps where (step + prompt length) % period == 0,
    so routes appear at different steps for different samples, identically alone or in a batch."""

    def __init__(self, model, prompt_lens, period=4):
        self.mllm, self.orig = model.mllm, model.mllm.forward_llm
        self.det = model.tokenizer.convert_tokens_to_ids('[DET]')
        self.prompt_lens, self.period, self.step = prompt_lens, period, 0

    def __call__(self, *args, **kwargs):
        hidden, logits, cache = self.orig(*args, **kwargs)
        for row, n in enumerate(self.prompt_lens):
            if (self.step + n) % self.period == 0 and self.step > 0:
                logits[row, self.det] += 1e4
        self.step += 1
        return hidden, logits, cache

    def __enter__(self):
        self.mllm.forward_llm = self
        return self

    def __exit__(self, *exc):
        self.mllm.forward_llm = self.orig


def _generate(model, prompts, max_new_tokens=12):
    tok = model.tokenizer
    n = max(len(p) for p in prompts)
    ids = torch.tensor([[tok.pad_token_id] * (n - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (n - len(p)) + [1] * len(p) for p in prompts])
    with ForcedRoutes(model, [len(p) for p in prompts]):
        return generate_with_queries(model.mllm, model.superlink, model.embed(ids, None), mask, ids,
                                     max_new_tokens=max_new_tokens, eos_token_id=tok.eos_token_id)


def test_free_generation_batch_matches_single_with_several_routes(model):
    """Routes at different steps in a batch of 2: same tokens and query states as each sample alone."""
    tok = model.tokenizer
    prompts = [_prompt(model, 'Please detect red circle.'),
               _prompt(model, 'Please detect the blue square and the two stars now.')]
    both = _generate(model, prompts)
    n_routes = 0
    for b, p in enumerate(prompts):
        alone = _generate(model, [p])
        assert both.token_ids[b] == alone.token_ids[0]
        mine = both.conditions['det'].for_sample(b)
        assert mine.names == alone.conditions['det'].names
        assert torch.allclose(mine.embeddings, alone.conditions['det'].embeddings, atol=1e-4)
        n_routes += sum(t == tok.convert_tokens_to_ids('[DET]') for t in alone.token_ids[0])
    assert n_routes >= 4 and len(both.conditions['det']) == n_routes


def test_group_slot_attention_mask(model):
    sl, tok = model.superlink, model.tokenizer
    ids, _ = sl.expand(tok('Results: red circle[DET], sky[SEG].', add_special_tokens=False).input_ids, [0] * 100)
    ids_t = torch.tensor([ids])
    m = sl.attention_mask(ids_t, torch.ones_like(ids_t))[0, 0]
    r = ids.index(tok.convert_tokens_to_ids('[DET]'))
    start = sl.name_start(ids, r)
    assert tok.decode(ids[start:r]).strip() == 'red circle'
    for k in range(8):   # slot k sees the name, the routing token and slots 0..k only
        row = m[r + 1 + k]
        assert row[start:r + 2 + k].all() and row.sum() == (r + 2 + k - start)
    text_row = m[r + 9]  # the ',' after the slots: causal over the text, no slot
    assert text_row[:r + 1].all() and not text_row[r + 1:r + 9].any() and text_row[r + 9]
    assert not text_row[r + 10:].any()
    causal = SuperLink(families=dict(det=dict(tokens=['[DET]'], num_queries=8), seg=dict(tokens=['[SEG]'],
                                     num_queries=8)), slot_attention='causal')
    causal.bind(tok, 8)
    pad = torch.ones_like(ids_t)
    assert causal.attention_mask(ids_t, pad) is pad  # 2D: the LLM's own causal mask (SDPA's fast path)


def test_causal_slot_attention_2d_mask_equals_the_explicit_causal_mask(tokenizer_dir):
    """With slot_attention='causal' the LLM gets the 2D padding mask; on every real token its hidden
    states equal those under the explicit [B, 1, L, L] causal mask, with right padding in the batch."""
    cfg = tiny_model_cfg(tokenizer_dir)
    cfg['superlink']['slot_attention'] = 'causal'
    torch.manual_seed(0)
    m = MODELS.build(cfg).eval()
    tok, sl = m.tokenizer, m.superlink
    seqs = [sl.expand(tok(t, add_special_tokens=False).input_ids, [0] * 200)[0]
            for t in ('Results: red circle[DET], sky[SEG].', 'Found: green star[DET].')]
    L = max(map(len, seqs))
    ids = torch.tensor([s + [tok.pad_token_id] * (L - len(s)) for s in seqs])
    pad = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
    explicit = torch.ones(L, L, dtype=torch.bool).tril()[None] & pad.bool()[:, None, :]
    explicit |= torch.eye(L, dtype=torch.bool)
    with torch.no_grad():
        embeds = m.embed(ids, None)
        h2, _, _ = m.mllm.forward_llm(embeds, sl.attention_mask(ids, pad))
        h4, _, _ = m.mllm.forward_llm(embeds, explicit[:, None])
    real = pad.bool()
    assert torch.allclose(h2[real], h4[real], atol=1e-5)
    # free generation with causal slots (2D masks where no bank is inserted) == one teacher-forced forward
    prompt = _prompt(m, 'Please detect red circle and blue star.')
    out = _generate(m, [prompt], max_new_tokens=10)
    full = torch.tensor([sl.expand(prompt + out.token_ids[0], [0] * 1000)[0]])
    with torch.no_grad():
        h, _, _ = m.mllm.forward_llm(m.embed(full, None), sl.attention_mask(full, torch.ones_like(full)))
    n = len(out.conditions['det'])
    assert n >= 2 and torch.allclose(out.conditions['det'].embeddings, sl.gather(h, full)['det'].embeddings[:n],
                                     atol=1e-4)


def test_free_generation_slots_match_one_teacher_forced_forward(model):
    """KV-cache insertion during generation == the same sequence run at once (prompted layout)."""
    sl = model.superlink
    prompt = _prompt(model, 'Please detect red circle and blue star.')
    out = _generate(model, [prompt], max_new_tokens=10)
    assert len(out.conditions['det']) >= 2
    full, _ = sl.expand(prompt + out.token_ids[0], [0] * 1000)
    full = torch.tensor([full])
    with torch.no_grad():
        h, _, _ = model.mllm.forward_llm(model.embed(full, None), sl.attention_mask(full, torch.ones_like(full)),
                                         sl.position_ids(full, torch.ones_like(full)))
    ref = sl.gather(h, full)['det']
    n = len(out.conditions['det'])
    assert torch.allclose(out.conditions['det'].embeddings, ref.embeddings[:n], atol=1e-4)
    assert out.conditions['det'].names == ref.names[:n]
    ref_named = sl.gather(h, full, model.embed(full, None))['det']
    assert torch.allclose(out.conditions['det'].name_embeddings, ref_named.name_embeddings[:n], atol=1e-5)


def test_group_masks_and_conditions_of_a_padded_batch_match_each_sample_alone(model):
    """Several groups per sample at different positions, right padding: every sample's mask rows and
    gathered name embeddings are those it gets alone."""
    sl, tok = model.superlink, model.tokenizer
    texts = ['Results: red circle[DET], blue square[DET], sky[SEG].', 'Found: green star[DET].']
    seqs = [sl.expand(tok(t, add_special_tokens=False).input_ids, [0] * 200)[0] for t in texts]
    L = max(map(len, seqs))
    ids = torch.tensor([s + [tok.pad_token_id] * (L - len(s)) for s in seqs])
    pad = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
    mask = sl.attention_mask(ids, pad)[:, 0]
    embeds = torch.randn(2, L, 16)
    conds = sl.gather(embeds, ids, embeds)
    for b, s in enumerate(seqs):
        alone = torch.tensor([s])
        assert torch.equal(mask[b, :len(s), :len(s)], sl.attention_mask(alone, torch.ones_like(alone))[0, 0])
        single = sl.gather(embeds[b:b + 1, :len(s)], alone, embeds[b:b + 1, :len(s)])
        for f, c in single.items():
            mine = conds[f].for_sample(b)
            assert mine.names == c.names
            assert torch.allclose(mine.name_embeddings, c.name_embeddings, atol=1e-6)


def test_span_means():
    x = torch.randn(2, 6, 3, requires_grad=True)
    spans = [(0, 1, 4), (1, 0, 2), (1, 3, 3), (0, 5, 6)]  # (sample, start, end); the third is empty
    out = SuperLink.span_means(x, spans)
    ref = torch.stack([x[b, s:e].mean(0) if e > s else x.new_zeros(3) for b, s, e in spans])
    assert torch.allclose(out, ref, atol=1e-6)
    g, = torch.autograd.grad(out.sum(), x)
    assert torch.allclose(g[0, 1:4], torch.full((3, 3), 1 / 3)) and g[0, 0].abs().sum() == 0


def test_free_generation_stops_at_each_samples_budget(model):
    """Per-sample budgets: a sample never generates more than its budget (an untrained model that never
    ends its answer stops there), and the others run on unchanged."""
    prompts = [_prompt(model, 'Please detect red circle.'), _prompt(model, 'Please describe the image.')]
    full = _generate(model, prompts, max_new_tokens=12)
    capped = _generate(model, prompts, max_new_tokens=[3, 12])
    assert len(capped.token_ids[0]) <= 3 and capped.token_ids[0] == full.token_ids[0][:len(capped.token_ids[0])]
    assert capped.token_ids[1] == full.token_ids[1]


def test_token_budget_follows_the_requested_groups(model):
    """A free sample that lists its groups gets the routed answer's length + slack, at most the cap; a
    chat sample gets the cap (per task when the cap is a dict)."""
    from visionllm.datasets import prompts as P
    from visionllm.structures import VisionLLMDataSample
    names = ['red circle', 'blue square', 'green star']
    det = VisionLLMDataSample(metainfo=dict(task='det', gt_groups=[(n, '[DET]') for n in names]))
    answer = len(model.tokenizer(P.grouped_answer(names, '[DET]'), add_special_tokens=False).input_ids)
    saved = dict(model.test_cfg)
    try:
        model.test_cfg.update(max_new_tokens=500, answer_slack=16)
        budget = model.token_budget(det)
        assert answer <= budget <= answer + 16 < 500  # the right answer fits, an endless one is cut early
        model.test_cfg['max_new_tokens'] = dict(default=40, chat=24)
        assert model.token_budget(VisionLLMDataSample(metainfo=dict(task='chat'))) == 24
        assert model.token_budget(VisionLLMDataSample(metainfo=dict(task='caption'))) == 40
    finally:
        model.test_cfg.clear()
        model.test_cfg.update(saved)


def test_names_with_delimiters_round_trip_through_the_answer(model):
    """A referring expression with a comma (and a colon) comes back whole from the ids, not cut at the comma."""
    from visionllm.datasets import prompts
    sl, tok = model.superlink, model.tokenizer
    names = ['left guy, blue shirt', 'time: noon', 'red circle']
    ids = tok(prompts.grouped_answer(names, '[DET]'), add_special_tokens=False).input_ids
    ids, _ = sl.expand(ids, list(ids))
    ids = torch.tensor([ids])
    conds = sl.gather(torch.zeros(1, ids.shape[1], model.mllm.hidden_size), ids)
    assert conds['det'].names == names



def test_slots_beside_text_positions_targets_and_last_index(model):
    """Under 'group': text positions skip the slots (slot k at its routing token's position + 1 + k), the
    token after a group is the routing token's target, slots learn nothing; left padding counts nothing."""
    sl, tok = model.superlink, model.tokenizer
    text = tok('Results: red circle[DET], sky[SEG].', add_special_tokens=False).input_ids
    ids, labels = sl.expand(text, text, -100)
    ids_t, pad = torch.tensor([[tok.pad_token_id] * 3 + ids]), torch.tensor([[0] * 3 + [1] * len(ids)])
    pos = sl.position_ids(ids_t, pad)[0, 3:].tolist()
    is_slot = [i == sl.placeholder_id for i in ids]
    assert [p for p, s in zip(pos, is_slot) if not s] == list(range(len(text)))
    r = ids.index(tok.convert_tokens_to_ids('[DET]'))
    assert pos[r + 1:r + 9] == [pos[r] + 1 + k for k in range(8)] and pos[r + 9] == pos[r] + 1
    target = sl.next_token_targets(torch.tensor([ids]), torch.tensor([labels]))[0].tolist()
    assert target[r] == ids[r + 9] == tok.convert_tokens_to_ids(',')  # the ',' is learnt at [DET]
    assert all(t == -100 for t in target[r + 1:r + 9])
    assert [t for t, s in zip(target, is_slot) if not s][:-1] == text[1:]  # the text's own shift
    assert sl.last_text_index(torch.tensor([ids[:r + 9]]), torch.ones(1, r + 9)).item() == r


def test_text_hidden_states_do_not_depend_on_the_slots(model):
    """Under 'group' the text's hidden states equal those of the same text without slots (run alone)."""
    sl, tok = model.superlink, model.tokenizer
    text = tok('Results: red circle[DET], blue star[DET].', add_special_tokens=False).input_ids
    ids = torch.tensor([sl.expand(text, text, -100)[0]])
    plain = torch.tensor([text])
    with torch.no_grad():
        h, _, _ = model.mllm.forward_llm(model.embed(ids, None), sl.attention_mask(ids, torch.ones_like(ids)),
                                         sl.position_ids(ids, torch.ones_like(ids)))
        h0, _, _ = model.mllm.forward_llm(model.mllm.embed_tokens(plain))  # no slots to fill
    assert torch.allclose(h[0][ids[0] != sl.placeholder_id], h0[0], atol=1e-5)
