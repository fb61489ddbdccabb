# CPU-sized latent diffusion for [GEN] and [EDIT]: 64 px images, VAE factor 4 (16 x 16 x 4 latents),
# a 2-level UNet (32/64 channels) with cross-attention (dim 64), a 2-layer query mapper with 16 output tokens.
gen_image_size = 64
gen_vae = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 32, 32),
               down_block_types=('DownEncoderBlock2D', ) * 3, up_block_types=('UpDecoderBlock2D', ) * 3,
               layers_per_block=1, norm_num_groups=8, sample_size=gen_image_size)
gen_unet = dict(sample_size=gen_image_size // 4, in_channels=4, out_channels=4, block_out_channels=(32, 64),
                down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'),
                up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'), layers_per_block=1, cross_attention_dim=64,
                attention_head_dim=16, norm_num_groups=8)
gen_decoder = dict(
    type='DiffusionGenerationDecoder', unet=gen_unet, vae=gen_vae, image_size=gen_image_size,
    mapper=dict(num_tokens=16, num_layers=2, num_heads=4), train_parts=('unet', 'vae', 'mapper'),
    prediction_type='epsilon', cond_dropout=0.1,
    test_cfg=dict(num_inference_steps=20, guidance_scale=3.0, scheduler='ddim', seed=0))
edit_decoder = dict(
    type='DiffusionEditDecoder', unet=dict(gen_unet, in_channels=8), vae=gen_vae, image_size=gen_image_size,
    mapper=dict(num_tokens=16, num_layers=2, num_heads=4), train_parts=('unet', 'vae', 'mapper'),
    prediction_type='epsilon', cond_dropout=0.1, image_dropout=0.05,
    test_cfg=dict(num_inference_steps=20, guidance_scale=3.0, image_guidance_scale=1.5, scheduler='ddim', seed=0))
