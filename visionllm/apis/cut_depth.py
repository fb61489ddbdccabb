"""Full-size configs cut to CPU size by depth alone, for checks of the real path without a GPU."""


def cut_depth(cfg) -> None:
    """One layer per stack (vision tower, LLM, detection encoder / decoder, pixel decoder), the UNet's first
    two levels (320 / 640 channels) and 256 px diffusion images; widths, heads, tiles, query and slot counts
    stay those of the config. Changes the mmengine Config ``cfg`` in place."""
    m = cfg.model
    m.mllm.vision_config.num_hidden_layers = 1
    m.mllm.text_config.num_hidden_layers = 1
    m.mllm.gradient_checkpointing = False
    decoders = m.get('decoders', {})
    if 'det' in decoders:
        det = decoders.det.detector
        det.encoder.num_layers = det.decoder.num_layers = 1
    if 'seg' in decoders:
        decoders.seg.pixel_decoder.encoder.num_layers = 1
    for family in ('gen', 'edit'):
        if family not in decoders:
            continue
        decoders[family].image_size = 256
        decoders[family].unet.update(
            sample_size=256 // 8, layers_per_block=1, block_out_channels=(320, 640),
            down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'),
            up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'))
        decoders[family].vae.layers_per_block = 1
        decoders[family].test_cfg = dict(num_inference_steps=1, guidance_scale=1.0, seed=0)
