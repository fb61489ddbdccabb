import torch

from visionllm.models.mllm import InternVLMLLM

VISION = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, image_size=64,
              patch_size=8)
TEXT = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
            intermediate_size=64, max_position_embeddings=512)


def build(tokenizer_dir, **kw):
    return InternVLMLLM(vision_config=VISION, text_config=TEXT, tokenizer=dict(path=tokenizer_dir),
                        special_tokens=['[DET]', '[EMB]'], **kw)


def test_pixel_shuffle_and_image_token_count(tokenizer_dir):
    m = build(tokenizer_dir)
    # 64 px / patch 8 = 8x8 patches; pixel shuffle 0.5 -> 4x4 = 16 tokens per tile of width 32
    assert m.num_image_tokens == 16
    feats = m.encode_images(torch.randn(3, 3, 64, 64))
    assert feats.shape == (3, 16, 32)
    shuffled = m.model.model.pixel_shuffle(torch.randn(2, 8, 8, 32), 0.5)
    assert shuffled.shape == (2, 4, 4, 128)


def test_forward_llm_and_logits_mask(tokenizer_dir):
    m = build(tokenizer_dir)
    emb = m.embed_tokens(torch.tensor([[1, 2, 3, 4]]))
    hidden, logits, _ = m.forward_llm(emb)
    assert hidden.shape == (1, 4, 32) and logits.shape == (1, 4, len(m.tokenizer))
    mask = torch.tensor([[False, True, False, True]])
    _, sel, _ = m.forward_llm(emb, logits_mask=mask)
    assert torch.allclose(sel, logits[mask], atol=1e-5)


def test_save_pretrained_roundtrip_through_config_path(tokenizer_dir, tmp_path):
    m = build(tokenizer_dir)
    m.save_pretrained(str(tmp_path / 'ckpt'))
    m2 = InternVLMLLM(pretrained=str(tmp_path / 'ckpt'), special_tokens=['[DET]', '[EMB]', '[NEW]'])
    # the export names <video> for InternVLProcessor (a new row) and the config adds [NEW]: embeddings
    # resized, old rows kept, new rows near the mean
    assert len(m2.tokenizer) == len(m.tokenizer) + 2 and '<video>' in m2.tokenizer.get_vocab()
    old = m.model.get_input_embeddings().weight
    new = m2.model.get_input_embeddings().weight
    assert torch.equal(new[:len(old)], old)
    assert (new[-1] - old.mean(0)).norm() < 3 * old.std(0).norm()
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(m.encode_images(x), m2.encode_images(x), atol=1e-6)
    assert m2.model.config.image_token_id == m2.tokenizer.convert_tokens_to_ids('<IMG_CONTEXT>')
    m2.init_weights()  # must not re-initialise loaded weights
    assert torch.equal(m2.model.get_input_embeddings().weight[:len(old)], old)


def test_lora_trains_only_adapters(tokenizer_dir):
    m = build(tokenizer_dir, lora=dict(r=4, lora_alpha=8, train_embeddings=False))
    lm = m.model.model.language_model
    trainable = [n for n, p in lm.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    emb = m.embed_tokens(torch.tensor([[1, 2, 3]]))
    before = m.forward_llm(emb)[0]
    for n, p in lm.named_parameters():
        if 'lora_B' in n:
            p.data.fill_(0.1)
    assert not torch.allclose(m.forward_llm(emb)[0], before)
    assert all(p.requires_grad for p in m.model.model.vision_tower.parameters())


def test_lora_export_merges_in_place_and_keeps_the_adapters(tokenizer_dir, tmp_path, monkeypatch):
    """save_pretrained of a LoRA model whose vocabulary already holds the processor's tokens: the adapters are
    merged into the saved weights without a copy of the model, and the model keeps them afterwards."""
    from transformers import AutoModelForImageTextToText

    import visionllm.models.mllm.internvl as internvl

    def no_copy(model):
        raise AssertionError('the model was copied to merge its adapters (an 8B model: ~32 GB)')
    monkeypatch.setattr(internvl, 'merged_lora_model', no_copy)
    m = InternVLMLLM(vision_config=VISION, text_config=TEXT, tokenizer=dict(path=tokenizer_dir),
                     special_tokens=['[DET]', '[EMB]', '<video>'], lora=dict(r=4, lora_alpha=8))
    with torch.no_grad():
        for n, p in m.named_parameters():
            if 'lora_B' in n:
                p.normal_(0, 0.05)
    emb = m.embed_tokens(torch.tensor([[1, 2, 3]]))
    with torch.no_grad():
        before = m.forward_llm(emb)[0]
    lora = {n: p.detach().clone() for n, p in m.named_parameters() if 'lora_' in n}
    m.save_pretrained(str(tmp_path / 'out'))
    saved = AutoModelForImageTextToText.from_pretrained(str(tmp_path / 'out'))
    assert not any('lora' in n or 'base_layer' in n for n, _ in saved.named_parameters())
    with torch.no_grad():
        plain = saved.model.language_model(inputs_embeds=emb).last_hidden_state
        after = m.forward_llm(emb)[0]
    assert torch.allclose(plain, before, atol=1e-4)  # the adapters are in the saved weights
    assert torch.allclose(after, before, atol=1e-6)  # unmerged again: the model is as it was
    assert all(torch.equal(p, lora[n]) for n, p in m.named_parameters() if 'lora_' in n)
