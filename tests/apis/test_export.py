import os.path as osp

import torch

from tests.conftest import tiny_model_cfg
from visionllm.apis.export import export_generalist, load_exported
from visionllm.registry import MODELS


def test_export_roundtrip(tokenizer_dir, tmp_path):
    from mmengine.config import Config

    from tests.models.decoders.test_generation import TINY_UNET, TINY_VAE
    gen = Config.fromfile('configs/_base_/models/gen_decoder_tiny.py').gen_decoder.to_dict()
    gen['unet'].update(TINY_UNET)
    gen['vae'].update(TINY_VAE)
    cfg = Config(dict(model=tiny_model_cfg(tokenizer_dir, decoders=dict(gen=gen))))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    export_generalist(model, cfg, str(tmp_path / 'out'))
    assert (tmp_path / 'out/mllm/config.json').exists() and (tmp_path / 'out/gen/unet/config.json').exists()
    model2 = load_exported(str(tmp_path / 'out'))
    ids = torch.tensor([model.tokenizer('a red circle[GEN]', add_special_tokens=False).input_ids + [
        model.superlink.placeholder_id] * 64])
    with torch.no_grad():
        h1 = model.mllm.forward_llm(model.embed(ids, None))[0]
        h2 = model2.mllm.forward_llm(model2.embed(ids, None))[0]
    assert torch.allclose(h1, h2, atol=1e-5)
    for (k, a), b in zip(model.decoders.gen.state_dict().items(), model2.decoders.gen.state_dict().values()):
        assert torch.equal(a, b), k
    from diffusers import UNet2DConditionModel
    assert UNet2DConditionModel.from_pretrained(str(tmp_path / 'out/gen/unet')).config.in_channels == 4


def test_export_merges_lora_into_plain_transformers_weights(tokenizer_dir, tmp_path):
    from mmengine.config import Config
    from transformers import AutoModelForImageTextToText
    model_cfg = tiny_model_cfg(tokenizer_dir)
    model_cfg['mllm']['lora'] = dict(r=4, target_modules=['q_proj', 'v_proj'])
    cfg = Config(dict(model=model_cfg))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():  # trained adapters: B is no longer zero
        for n, p in model.named_parameters():
            if 'lora_B' in n:
                p.normal_(0, 0.05)
    export_generalist(model, cfg, str(tmp_path / 'out'))
    saved = AutoModelForImageTextToText.from_pretrained(str(tmp_path / 'out/mllm'))
    assert not any('lora' in n or 'base_layer' in n for n, _ in saved.named_parameters())
    model2 = load_exported(str(tmp_path / 'out'))
    ids = torch.tensor([model.tokenizer('a red circle', add_special_tokens=False).input_ids])
    with torch.no_grad():
        h1 = model.mllm.forward_llm(model.embed(ids, None))[0]
        h2 = model2.mllm.forward_llm(model2.embed(ids, None))[0]
    assert torch.allclose(h1, h2, atol=1e-4)
    assert any('lora' in n for n, _ in model.named_parameters())  # the trained model keeps its adapters


def test_export_writes_processor_files_matching_the_training_format(tokenizer_dir, tmp_path):
    """The exported directory's chat template gives the ids the model was trained on; the image processor
    tiles at the vision tower's size; InternVLProcessor's named image tokens and image_seq_length are there."""
    import json

    from mmengine.config import Config
    from transformers import AutoImageProcessor, AutoTokenizer
    cfg = Config(dict(model=tiny_model_cfg(tokenizer_dir)))
    model = MODELS.build(cfg.model)
    export_generalist(model, cfg, str(tmp_path / 'out'))
    out = str(tmp_path / 'out/mllm')
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.context_image_token == '<IMG_CONTEXT>' and tok.start_image_token == '<img>'
    messages = [dict(role='user', content='<image>\nPlease detect red circle in the image.'),
                dict(role='assistant', content='Here are the results: red circle[DET].')]
    hf_ids = tok.apply_chat_template(messages, tokenize=True, return_dict=False)
    if isinstance(hf_ids, dict) or hasattr(hf_ids, 'input_ids'):
        hf_ids = hf_ids['input_ids']
    ours, _ = model.template.encode(messages, num_image_tokens=1)
    ctx = tok.convert_tokens_to_ids('<IMG_CONTEXT>')
    # the processor wraps each <IMG_CONTEXT> of the template in <img> ... </img> and repeats it per token
    expanded = []
    for i in hf_ids:
        expanded += [tok.convert_tokens_to_ids('<img>'), ctx, tok.convert_tokens_to_ids('</img>')] if i == ctx else [i]
    assert expanded == list(ours)
    image_processor = AutoImageProcessor.from_pretrained(out)
    assert image_processor.size['height'] == model.mllm.tile_size
    processor = json.load(open(osp.join(out, 'processor_config.json')))
    assert processor['image_seq_length'] == model.mllm.num_image_tokens


def test_export_keeps_the_region_encoder(tokenizer_dir, tmp_path):
    """A visual-prompt model comes back with its trained region encoder, not a random one."""
    from mmengine.config import Config
    cfg = Config(dict(model=dict(tiny_model_cfg(tokenizer_dir), region_encoder=dict(channels=8))))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # trained weights: not what a fresh build gives
        for p in model.region_encoder.parameters():
            p.add_(0.1)
    export_generalist(model, cfg, str(tmp_path / 'out'))
    model2 = load_exported(str(tmp_path / 'out'))
    for (k, a), b in zip(model.region_encoder.state_dict().items(), model2.region_encoder.state_dict().values()):
        assert torch.equal(a, b), k
