"""A checkpoint written by transformers itself in the InternVL3-*-hf layout (a Qwen2 tokenizer class with
InternVL's image tokens, 56 px tiles of 14 px patches where the config's pipelines say 64) loads through a
config, trains with tools/train.py, predicts, and exports back to a directory that plain transformers loads
with the trained weights."""
import os.path as osp

import numpy as np
import torch

from tests.conftest import tiny_config
from tests.tools.test_cli import run

DET_CFG = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py'


def write_hf_checkpoint(tokenizer_dir: str, out: str) -> None:
    """InternVLForConditionalGeneration + Qwen2 tokenizer saved by transformers (nothing of this project)."""
    from transformers import (
        AutoTokenizer,
        InternVLConfig,
        InternVLForConditionalGeneration,
        Qwen2Config,
        Qwen2TokenizerFast,
    )
    from transformers.models.internvl import InternVLVisionConfig
    base = AutoTokenizer.from_pretrained(tokenizer_dir)
    tok = Qwen2TokenizerFast(tokenizer_object=base.backend_tokenizer, eos_token='<|im_end|>',
                             pad_token='<|endoftext|>')
    tok.add_special_tokens({'additional_special_tokens': ['<img>', '</img>', '<IMG_CONTEXT>']})
    cfg = InternVLConfig(
        vision_config=InternVLVisionConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                           intermediate_size=64, image_size=[56, 56], patch_size=[14, 14]),
        text_config=Qwen2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                num_key_value_heads=1, vocab_size=len(tok)),
        image_token_id=tok.convert_tokens_to_ids('<IMG_CONTEXT>'), image_seq_length=4, downsample_ratio=0.5)
    torch.manual_seed(0)
    InternVLForConditionalGeneration(cfg).save_pretrained(out)
    tok.save_pretrained(out)


def test_transformers_checkpoint_trains_predicts_and_round_trips(synth_root, tokenizer_dir, tmp_path):
    from transformers import AutoModelForImageTextToText, AutoTokenizer

    from visionllm.apis import VisionLLMInferencer
    hf = str(tmp_path / 'InternVL3-tiny-hf')
    write_hf_checkpoint(tokenizer_dir, hf)
    assert osp.exists(osp.join(hf, 'model.safetensors')) and osp.exists(osp.join(hf, 'tokenizer.json'))
    cfg = tiny_config(DET_CFG, synth_root, tokenizer_dir, str(tmp_path / 'work'))
    cfg.model.mllm.pretrained = hf  # the one setting: tokenizer and tile size come from the directory
    cfg.model.mllm.tokenizer = dict(path=hf)
    cfg.train_cfg.val_interval = 100
    path = str(tmp_path / 'hf.py')
    cfg.dump(path)
    r = run(['tools/train.py', path, '--work-dir', str(tmp_path / 'work')])
    log = r.stdout + r.stderr
    assert r.returncode == 0 and 'Iter(train) [2/2]' in log, log[-3000:]
    ckpt = str(tmp_path / 'work' / 'iter_2.pth')
    inf = VisionLLMInferencer(path, ckpt)
    assert inf.model.mllm.tile_size == 56 and inf.model.mllm.num_image_tokens == 4
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    out = inf(img, texts='red circle . blue square', pred_score_thr=0.0)
    assert out['predictions'][0]['bboxes']
    r = run(['tools/model_converters/export_generalist.py', path, ckpt, str(tmp_path / 'export')])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    saved = AutoModelForImageTextToText.from_pretrained(str(tmp_path / 'export' / 'mllm'))
    trained = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    n = 0
    for name, p in saved.state_dict().items():
        key = f'mllm.model.{name}'
        if key in trained and trained[key].shape == p.shape:
            assert torch.equal(trained[key], p), name
            n += 1
    assert n > 10
    original = AutoModelForImageTextToText.from_pretrained(hf)
    assert not torch.equal(original.state_dict()['lm_head.weight'], saved.state_dict()['lm_head.weight'][
        :original.config.text_config.vocab_size])  # trained, not the file it started from
    tok = AutoTokenizer.from_pretrained(str(tmp_path / 'export' / 'mllm'))
    assert tok.convert_tokens_to_ids('[DET]') == inf.model.tokenizer.convert_tokens_to_ids('[DET]')
