# Yardstick of region recognition without an LLM: the region config's image path (vision tower, projector,
# token embeddings) and region encoder, and a 2-layer bidirectional transformer over [CLS, question, image
# tokens, region token] that picks one of the training split's category names (closed set: it cannot name the
# held-out categories). The training data and schedule are those of the region config (the other tasks'
# samples pass through); evaluated on region recognition only.
_base_ = ['./visionllm_internvl-tiny_det-region_1xb8-1.8k_synthetic.py']
model = dict(_delete_=True, type='AnswerClassifier', mllm={{_base_.model.mllm}}, task='region-caption',
             answers_file='data/synthetic/annotations/instances_train.json',  # the classes: its category names
             region_encoder={{_base_.model.region_encoder}}, num_layers=2, num_heads=4, ffn_dims=256,
             data_preprocessor={{_base_.model.data_preprocessor}})
val_dataloader = dict(dataset=dict(_base_.region_caption_val, _delete_=True))
test_dataloader = dict(dataset=dict(_base_.region_caption_test, _delete_=True))
val_evaluator = [dict(type='RegionRecognitionAccuracy', held_out_file=_base_.held_out_file)]
test_evaluator = val_evaluator  # the same metric, on test_dataloader's split
