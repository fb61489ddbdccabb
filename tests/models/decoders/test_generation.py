import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.conftest import REPO
from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample
from visionllm.utils.errors import ConfigError, PromptError

TINY_UNET = dict(block_out_channels=(32, 32), attention_head_dim=8, norm_num_groups=8, cross_attention_dim=32)
TINY_VAE = dict(block_out_channels=(16, 16, 16), norm_num_groups=8)


def _build(key, unet=None, **kw):
    base = Config.fromfile(osp.join(REPO, 'configs/_base_/models/gen_decoder_tiny.py'))
    cfg = base[key].to_dict()
    cfg['unet'].update(TINY_UNET, **(unet or {}))
    cfg['vae'].update(TINY_VAE)
    cfg.update(kw, test_cfg=dict(cfg['test_cfg'], num_inference_steps=2))
    return MODELS.build(cfg, default_args=dict(condition_dims=24, routing_tokens=['[GEN]'], num_queries=64))


def _samples(n):
    out = []
    for _ in range(n):
        s = VisionLLMDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
        s.gt_image = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
        out.append(s)
    return out


def _conds(n):
    return TaskConditions(torch.randn(n, 64, 24, requires_grad=True), torch.arange(n), [''] * n, ['[GEN]'] * n)


def _inputs(n):
    return dict(images=torch.randn(n, 3, 64, 64), image_mean=torch.full((3, 1, 1), 120.0),
                image_std=torch.full((3, 1, 1), 60.0))


@pytest.mark.parametrize('key', ['gen_decoder', 'edit_decoder'])
def test_loss_sample_and_val_loss(key):
    torch.manual_seed(0)
    dec = _build(key)
    conds = _conds(2)
    losses = dec.loss(_inputs(2), conds, _samples(2))
    assert set(losses) == {'loss_noise', 'loss_vae'} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert conds.embeddings.grad.abs().sum() > 0
    dec.eval()
    out = dec.predict(_inputs(2), _conds(2), _samples(2))
    assert out[0].pred_image.shape == (3, 64, 64) and out[0].pred_image.dtype == torch.uint8
    assert out[0].val_loss_noise > 0
    a = dec.sample(dec.mapper(torch.randn(1, 64, 24)), extra=None if key == 'gen_decoder' else
                   torch.zeros(1, 4, 16, 16), seed=3)
    b = dec.sample(dec.mapper(torch.randn(1, 64, 24)), extra=None if key == 'gen_decoder' else
                   torch.zeros(1, 4, 16, 16), seed=3, scheduler='dpm')
    assert a.shape == b.shape == (1, 3, 64, 64)


def test_frozen_parts_and_config_errors():
    dec = _build('gen_decoder', train_parts=('mapper', ))
    assert not any(p.requires_grad for p in dec.unet.parameters())
    assert all(p.requires_grad for p in dec.mapper.parameters())
    assert 'loss_vae' not in dec.loss(_inputs(1), _conds(1), _samples(1))
    with pytest.raises(ConfigError, match='not divisible by the VAE factor'):
        _build('gen_decoder', image_size=62)
    with pytest.raises(ConfigError, match='in_channels'):
        _build('edit_decoder', unet=dict(in_channels=4))
    with pytest.raises(PromptError, match='no target image'):
        dec.loss(_inputs(1), _conds(1), [VisionLLMDataSample(metainfo=dict(img_shape=(64, 64)))])


def test_diffusers_save_pretrained_roundtrip(tmp_path):
    torch.manual_seed(0)
    dec = _build('gen_decoder')
    dec.save_pretrained(str(tmp_path / 'sd'))
    dec2 = _build('gen_decoder', pretrained=str(tmp_path / 'sd'))
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(dec.encode(x, sample=False), dec2.encode(x, sample=False), atol=1e-5)
    for p1, p2 in zip(dec.unet.parameters(), dec2.unet.parameters()):
        assert torch.equal(p1, p2)


def test_pretrained_scheduler_is_used(tmp_path):
    """A diffusers pipeline folder with a `scheduler` (written by diffusers) sets the training noise schedule;
    the config's `scheduler` overrides still win."""
    from diffusers import DDPMScheduler
    dec = _build('gen_decoder')
    dec.save_pretrained(str(tmp_path / 'sd'))
    DDPMScheduler(num_train_timesteps=500, beta_schedule='linear', prediction_type='v_prediction').save_pretrained(
        str(tmp_path / 'sd' / 'scheduler'))
    cfg = _build('gen_decoder', pretrained=str(tmp_path / 'sd')).noise_scheduler.config
    assert (cfg.num_train_timesteps, cfg.beta_schedule, cfg.prediction_type) == (500, 'linear', 'v_prediction')
    cfg = _build('gen_decoder', pretrained=str(tmp_path / 'sd'), scheduler=dict(num_train_timesteps=250))
    assert cfg.noise_scheduler.config.num_train_timesteps == 250
    assert cfg.noise_scheduler.config.beta_schedule == 'linear'


def test_edit_sources_of_different_aspect_ratios():
    """A batch of non-square source images (padded to one size) gives one source latent per sample."""
    dec = _build('edit_decoder').eval()
    samples = _samples(2)
    samples[0].set_metainfo(dict(img_shape=(64, 40)))
    samples[1].set_metainfo(dict(img_shape=(36, 64)))
    lat = dec.extra_inputs(_inputs(2), samples, sample_latents=False)
    assert lat.shape == (2, 4, 16, 16)
