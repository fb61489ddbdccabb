# Yardstick of the VQA numbers without an LLM: the tiny generalist's image path (same vision tower, projector,
# tokenizer and embeddings) and a 2-layer bidirectional transformer over [CLS, question, image tokens] that picks
# one of the training answers. The training data and schedule are those of the text config; its caption
# samples pass through (a classifier has no caption to write): it learns from the VQA samples and is evaluated
# on VQA only.
_base_ = ['./visionllm_internvl-tiny_text_1xb8-2k_synthetic.py']
model = dict(_delete_=True, type='AnswerClassifier', mllm={{_base_.model.mllm}},
             answers_file='data/synthetic/conversations/vqa_train.jsonl',  # the classes: its answers
             num_layers=2, num_heads=4, ffn_dims=256, data_preprocessor={{_base_.model.data_preprocessor}})
vqa = dict(_delete_=True, type='ConversationDataset', data_root='data/synthetic/', task='vqa',
           pipeline={{_base_.text_pipeline}}, test_mode=True)
val_dataloader = dict(dataset=dict(vqa, ann_file='conversations/vqa_val.jsonl'))
test_dataloader = dict(dataset=dict(vqa, ann_file='conversations/vqa_test.jsonl'))
val_evaluator = [dict(type='VQAAccuracy')]
test_evaluator = val_evaluator  # the same metric, on test_dataloader's split
