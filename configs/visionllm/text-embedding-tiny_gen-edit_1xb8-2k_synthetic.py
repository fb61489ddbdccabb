# Baseline of the generation numbers: the same diffusion decoder, data and schedule as
# visionllm_internvl-tiny_gen-edit_1xb8-2k_synthetic.py, conditioned on learned token embeddings of the
# prompt (no LLM). Generation only (task='gen'); set model.task='edit' and edit data for editing.
_base_ = ['../_base_/models/gen_decoder_tiny.py', '../_base_/datasets/synthetic.py',
          '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py']
model = dict(type='TextEmbeddingBaseline', task='gen', routing_token='[GEN]', condition_dims=128, max_tokens=64,
             tokenizer=dict(path='data/tokenizers/synthetic-bpe', train_if_missing=True),
             decoder={{_base_.gen_decoder}}, data_preprocessor=dict(type='VisionLLMDataPreprocessor'))
optim_wrapper = dict(optimizer=dict(lr=3e-4), clip_grad=dict(max_norm=1.0))
loader = dict(num_workers=1, persistent_workers=True, collate_fn=dict(type='visionllm.visionllm_collate'))
train_dataloader = dict(batch_size=8, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.gen_train}}, **loader)
val_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.gen_val}}, **loader)
test_dataloader = dict(batch_size=8, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset={{_base_.gen_test}}, **loader)
val_evaluator = [dict(type='GenerationMetric')]
test_evaluator = val_evaluator  # the same metric, on test_dataloader's split
custom_hooks = [dict(type='BadSampleHook'), dict(type='GenerationGridHook', max_images=16)]
