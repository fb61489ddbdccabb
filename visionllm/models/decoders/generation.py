"""Image generation decoder (the ``gen`` family: [GEN]) with diffusers.

The 64 query states of the [GEN] group go through a small transformer mapper with a fixed number of
learnable output tokens (width = the UNet's cross-attention dim) into the ``encoder_hidden_states`` of a
``UNet2DConditionModel``; latents come from an ``AutoencoderKL``; epsilon- or v-prediction loss under a
DDPM noise schedule; conditions are dropped (replaced by a learned null condition) with probability
``cond_dropout`` for classifier-free guidance. Sampling uses DDIM or DPM-Solver with the call's steps and
guidance scale. Which parts train is config (``train_parts``); real Stable-Diffusion-format components
load from a local diffusers directory (``pretrained``, subfolders ``unet`` / ``vae``). A VAE that trains
gets a reconstruction loss (a random-init VAE is otherwise meaningless).
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visionllm.registry import MODELS
from visionllm.structures import TaskConditions, VisionLLMDataSample
from visionllm.utils.errors import ConfigError, PromptError

from .base import BaseTaskDecoder
from .detection import group_by_sample


class QueryMapper(nn.Module):
    """[B, Q, D] query states -> [B, T, C] condition tokens (T learnable output tokens attend to them)."""

    def __init__(self, in_dims: int, out_dims: int, num_tokens: int = 16, num_layers: int = 2, num_heads: int = 4):
        super().__init__()
        self.proj = nn.Linear(in_dims, out_dims)
        self.tokens = nn.Parameter(torch.randn(num_tokens, out_dims) * 0.02)
        layer = nn.TransformerDecoderLayer(out_dims, num_heads, out_dims * 4, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers)
        self.norm = nn.LayerNorm(out_dims)

    def forward(self, states: Tensor) -> Tensor:
        memory = self.proj(states)
        return self.norm(self.decoder(self.tokens[None].expand(len(states), -1, -1), memory))


def to_unit_range(images: Tensor) -> Tensor:
    """uint8-valued [B, 3, H, W] -> [-1, 1]."""
    return images.float() / 127.5 - 1.0


@MODELS.register_module()
class DiffusionGenerationDecoder(BaseTaskDecoder):
    """Latent diffusion conditioned on super-link query states.

    Args:
        unet / vae: kwargs of diffusers' ``UNet2DConditionModel`` / ``AutoencoderKL`` (random init).
        pretrained: local diffusers directory with ``unet`` and ``vae`` subfolders (overrides the above).
        scheduler: kwargs of ``DDPMScheduler`` (training noise schedule; sampling schedulers copy it).
        mapper: ``num_tokens``, ``num_layers``, ``num_heads`` of the :class:`QueryMapper`.
        train_parts: any of ``unet``, ``vae``, ``mapper`` (the query bank trains with the LLM).
        image_size: side of the generated images (must be divisible by the VAE factor).
        test_cfg: ``num_inference_steps``, ``guidance_scale``, ``scheduler`` (``ddim`` | ``dpm``), ``seed``.
    """
    concat_source_latent = False  # the editing decoder feeds the source image's latent to the UNet too

    def __init__(self, condition_dims: int, routing_tokens, num_queries: int, unet: Optional[dict] = None,
                 vae: Optional[dict] = None, pretrained: Optional[str] = None, scheduler: Optional[dict] = None,
                 mapper: Optional[dict] = None, train_parts: Sequence[str] = ('unet', 'vae', 'mapper'),
                 prediction_type: str = 'epsilon', cond_dropout: float = 0.1, vae_loss_weight: float = 1.0,
                 image_size: int = 64, test_cfg: Optional[dict] = None, init_cfg=None):
        super().__init__(condition_dims, routing_tokens, num_queries, init_cfg)
        from diffusers import AutoencoderKL, UNet2DConditionModel
        if pretrained:
            self.unet = UNet2DConditionModel.from_pretrained(pretrained, subfolder='unet')
            self.vae = AutoencoderKL.from_pretrained(pretrained, subfolder='vae')
        else:
            self.unet = UNet2DConditionModel(**(unet or {}))
            self.vae = AutoencoderKL(**(vae or {}))
        self.vae_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        if image_size % self.vae_factor:
            raise ConfigError(f'image_size {image_size} is not divisible by the VAE factor {self.vae_factor}')
        want = self.vae.config.latent_channels * (2 if self.concat_source_latent else 1)
        if self.unet.config.in_channels != want:
            raise ConfigError(f'UNet in_channels={self.unet.config.in_channels}, expected {want} (latent channels'
                              + (' x 2: noisy + source latent)' if self.concat_source_latent else ')'))
        self.noise_scheduler = self._training_scheduler(pretrained, prediction_type, scheduler)
        cross = self.unet.config.cross_attention_dim
        self.mapper = QueryMapper(condition_dims, cross, **(mapper or {}))
        self.null_condition = nn.Parameter(torch.zeros(self.mapper.tokens.shape[0], cross))
        unknown = set(train_parts) - {'unet', 'vae', 'mapper'}
        if unknown:
            raise ConfigError(f'train_parts has unknown parts {sorted(unknown)}; use unet, vae, mapper')
        self.train_parts = tuple(train_parts)
        for part in ('unet', 'vae', 'mapper'):
            getattr(self, part).requires_grad_(part in train_parts)
        self.cond_dropout, self.vae_loss_weight, self.image_size = cond_dropout, vae_loss_weight, image_size
        self.test_cfg = dict(dict(num_inference_steps=20, guidance_scale=3.0, scheduler='ddim', seed=0),
                             **(test_cfg or {}))

    @staticmethod
    def _training_scheduler(pretrained: Optional[str], prediction_type: str, overrides: Optional[dict]):
        """The pretrained pipeline's ``scheduler`` folder when it has one (its betas and prediction type),
        else the local default; ``overrides`` (the config's ``scheduler``) win either way."""
        import os.path as osp

        from diffusers import DDPMScheduler
        if pretrained and osp.isfile(osp.join(pretrained, 'scheduler', 'scheduler_config.json')):
            config = dict(DDPMScheduler.load_config(pretrained, subfolder='scheduler'))
        else:
            config = dict(num_train_timesteps=1000, beta_schedule='squaredcos_cap_v2', prediction_type=prediction_type)
        return DDPMScheduler.from_config(dict(config, **(overrides or {})))

    # ---- pieces ------------------------------------------------------------------------------------
    def condition_tokens(self, conditions: TaskConditions, num_samples: int) -> Tensor:
        """One [GEN]-family group per sample -> [B, T, C]."""
        states, mask, _ = group_by_sample(conditions.embeddings, conditions, num_samples)
        if not mask[:, 0].all():
            raise PromptError('every sample given to the generation decoder needs one routing group')
        return self.mapper(states[:, 0])

    def encode(self, images: Tensor, sample: bool = True) -> Tensor:
        dist = self.vae.encode(images).latent_dist
        return (dist.sample() if sample else dist.mode()) * self.vae.config.scaling_factor

    def decode(self, latents: Tensor) -> Tensor:
        return self.vae.decode(latents / self.vae.config.scaling_factor).sample

    def _targets(self, data_samples: List[VisionLLMDataSample], device) -> Tensor:
        imgs = []
        for s in data_samples:
            if 'gt_image' not in s:
                raise PromptError(f'{s.get("img_path", "sample")}: no target image (`gt_image`) for [GEN]/[EDIT]')
            img = s.gt_image.to(device)
            if img.shape[-2:] != (self.image_size, self.image_size):
                img = F.interpolate(img[None].float(), size=(self.image_size, ) * 2, mode='bilinear',
                                    align_corners=False)[0]
            imgs.append(img)
        return to_unit_range(torch.stack(imgs))

    def extra_inputs(self, decoder_inputs: Dict[str, Tensor], data_samples, sample_latents: bool):
        """Extra UNet input channels (none for generation)."""
        return None

    # ---- training ----------------------------------------------------------------------------------
    def loss(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
             data_samples: List[VisionLLMDataSample]) -> Dict[str, Tensor]:
        B = len(data_samples)
        cond = self.condition_tokens(conditions, B)
        drop = torch.rand(B, device=cond.device) < self.cond_dropout
        cond = torch.where(drop[:, None, None], self.null_condition[None].expand_as(cond), cond)
        x = self._targets(data_samples, cond.device)
        losses = {}
        if 'vae' in self.train_parts:
            dist = self.vae.encode(x).latent_dist
            rec = self.vae.decode(dist.sample()).sample
            losses['loss_vae'] = (F.l1_loss(rec, x) + 1e-6 * dist.kl().mean()) * self.vae_loss_weight
            latents = dist.sample().detach() * self.vae.config.scaling_factor
        else:
            with torch.no_grad():
                latents = self.encode(x)
        extra = self.extra_inputs(decoder_inputs, data_samples, sample_latents=True)
        losses.update(self._denoise_loss(latents, cond, extra))
        return losses

    def _denoise_loss(self, latents: Tensor, cond: Tensor, extra: Optional[Tensor], generator=None) -> Dict:
        """``generator``: a CPU ``torch.Generator`` (drawn on the CPU, then moved: the same numbers on any device)."""
        dev = None if generator is not None else latents.device
        noise = torch.randn(latents.shape, generator=generator, device=dev).to(latents.device)
        t = torch.randint(0, self.noise_scheduler.config.num_train_timesteps, (len(latents), ),
                          generator=generator, device=dev).to(latents.device)
        noisy = self.noise_scheduler.add_noise(latents, noise, t)
        inp = noisy if extra is None else torch.cat([noisy, extra], 1)
        pred = self.unet(inp, t, encoder_hidden_states=cond).sample
        target = noise if self.noise_scheduler.config.prediction_type == 'epsilon' else \
            self.noise_scheduler.get_velocity(latents, noise, t)
        return dict(loss_noise=F.mse_loss(pred.float(), target.float()))

    # ---- sampling ----------------------------------------------------------------------------------
    def _sampler(self, name: str):
        from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
        cls = dict(ddim=DDIMScheduler, dpm=DPMSolverMultistepScheduler).get(name)
        if cls is None:
            raise ConfigError(f"test_cfg.scheduler must be 'ddim' or 'dpm', got {name!r}")
        return cls.from_config(self.noise_scheduler.config)

    def _guided_eps(self, latents, t, cond, extra, cfg: dict):
        """Classifier-free guidance over (null, cond) at ``cfg['guidance_scale']``."""
        scale = cfg['guidance_scale']
        null = self.null_condition[None].expand_as(cond)
        inp = torch.cat([latents, latents])
        if extra is not None:
            inp = torch.cat([inp, torch.cat([extra, extra])], 1)
        e_null, e_cond = self.unet(inp, t, encoder_hidden_states=torch.cat([null, cond])).sample.chunk(2)
        return e_null + scale * (e_cond - e_null)

    @torch.no_grad()
    def sample(self, cond: Tensor, extra: Optional[Tensor] = None, **options) -> Tensor:
        """Condition tokens [B, T, C] -> uint8 images [B, 3, S, S]; ``options``: ``test_cfg`` keys for this call."""
        cfg = self.call_test_cfg(options)
        sched = self._sampler(cfg['scheduler'])
        sched.set_timesteps(cfg['num_inference_steps'])
        g = torch.Generator().manual_seed(cfg['seed'])
        side = self.image_size // self.vae_factor
        latents = torch.randn(len(cond), self.vae.config.latent_channels, side, side, generator=g).to(cond)
        latents = latents * sched.init_noise_sigma
        for t in sched.timesteps:
            eps = self._guided_eps(sched.scale_model_input(latents, t), t, cond, extra, cfg)
            latents = sched.step(eps, t, latents).prev_sample
        img = self.decode(latents)
        return ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)

    @torch.no_grad()
    def predict(self, decoder_inputs: Dict[str, Tensor], conditions: TaskConditions,
                data_samples: List[VisionLLMDataSample], test_cfg: Optional[dict] = None
                ) -> List[VisionLLMDataSample]:
        """``pred_image`` (uint8 [3, S, S]) per sample; with a ``gt_image``, also the validation denoising
        loss at a fixed seed (``val_loss_noise`` metainfo)."""
        cond = self.condition_tokens(conditions, len(data_samples))
        extra = self.extra_inputs(decoder_inputs, data_samples, sample_latents=False)
        images = self.sample(cond, extra, **(test_cfg or {}))
        for s, img in zip(data_samples, images):
            s.pred_image = img
        if all('gt_image' in s for s in data_samples):
            g = torch.Generator().manual_seed(1234)
            latents = self.encode(self._targets(data_samples, cond.device), sample=False)
            val = self._denoise_loss(latents, cond, extra, generator=g)['loss_noise']
            for s in data_samples:
                s.set_metainfo(dict(val_loss_noise=float(val)))
        return data_samples

    def save_pretrained(self, save_dir: str) -> None:
        """Write ``unet`` / ``vae`` subfolders in diffusers format (loadable by ``pretrained=``)."""
        import os.path as osp
        self.unet.save_pretrained(osp.join(save_dir, 'unet'))
        self.vae.save_pretrained(osp.join(save_dir, 'vae'))
