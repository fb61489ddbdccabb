# InternVL3-sized MLLMs (InternViT-300M, 448 px tiles) with random init. For real weights set `pretrained`
# and `tokenizer.path` to a local InternVL3-*-hf directory (transformers' native InternVL format).
_vision_300m = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                    image_size=448, patch_size=14, norm_type='layer_norm', use_qk_norm=False)
internvl3_1b_mllm = dict(
    _delete_=True, type='InternVLMLLM', vision_config=_vision_300m,
    text_config=dict(model_type='qwen2', hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                     num_key_value_heads=2, intermediate_size=4864, max_position_embeddings=32768,
                     vocab_size=151674, rope_theta=1000000.0, tie_word_embeddings=True),
    downsample_ratio=0.5, tokenizer=dict(path='checkpoints/InternVL3-1B-hf'), gradient_checkpointing=True)
internvl3_8b_mllm = dict(
    _delete_=True, type='InternVLMLLM', vision_config=_vision_300m,
    text_config=dict(model_type='qwen2', hidden_size=3584, num_hidden_layers=28, num_attention_heads=28,
                     num_key_value_heads=4, intermediate_size=18944, max_position_embeddings=32768,
                     vocab_size=151674, rope_theta=1000000.0, tie_word_embeddings=False),
    downsample_ratio=0.5, tokenizer=dict(path='checkpoints/InternVL3-8B-hf'), gradient_checkpointing=True)
