# A CPU-sized InternVL generalist: same classes as the full-size model, random init.
llm_width = 128
model = dict(
    type='VisionLLM',
    data_preprocessor=dict(type='VisionLLMDataPreprocessor', pad_size_divisor=32),
    mllm=dict(
        type='InternVLMLLM',
        vision_config=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                           image_size=64, patch_size=8),
        text_config=dict(model_type='qwen2', hidden_size=llm_width, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=256, max_position_embeddings=2048,
                         tie_word_embeddings=True),
        downsample_ratio=0.5,
        tokenizer=dict(path='data/tokenizers/synthetic-bpe', train_if_missing=True),
    ),
    superlink=dict(type='SuperLink', placeholder='[EMB]', families=dict(
        det=dict(tokens=['[DET]', '[GRD]'], num_queries=8),
        seg=dict(tokens=['[SEG]'], num_queries=8),
        pose=dict(tokens=['[POSE]'], num_queries=8),
        gen=dict(tokens=['[GEN]'], num_queries=64),
        edit=dict(tokens=['[EDIT]'], num_queries=64))),
    decoders=dict(),
    # the BPE is trained here without prefix space: answers after a space spell their first word as the prompts do
    chat_template=dict(answer_space=True),
    lm_loss_mean='sample',  # each answer counts once, however long (detection lists would outweigh VQA 90:1)
    max_length=1024,
    test_cfg=dict(max_new_tokens=48),
)
