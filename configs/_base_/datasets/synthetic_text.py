# Captioning + VQA on the embedded synthetic data (LLaVA-style JSONL).
data_root = 'data/synthetic/'
tile_size = 64
text_pipeline = [
    dict(type='LoadImage'),
    dict(type='PackVisionLLMInputs', tile_size=tile_size, min_tiles=1, max_tiles=1),
]
caption_train = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/caption_train.jsonl',
                     task='caption', pipeline=text_pipeline)
vqa_train = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/vqa_train.jsonl',
                 task='vqa', pipeline=text_pipeline)
caption_val = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/caption_val.jsonl',
                   task='caption', pipeline=text_pipeline, test_mode=True)
vqa_val = dict(type='ConversationDataset', data_root=data_root, ann_file='conversations/vqa_val.jsonl',
               task='vqa', pipeline=text_pipeline, test_mode=True)

train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='visionllm.visionllm_collate'),
    dataset=dict(type='ConcatDataset', datasets=[caption_train, vqa_train]))
val_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='visionllm.visionllm_collate'),
    dataset=dict(type='ConcatDataset', datasets=[caption_val, vqa_val]))
test_dataloader = val_dataloader
val_evaluator = [dict(type='VQAAccuracy'), dict(type='CaptionObjectF1')]
test_evaluator = val_evaluator
