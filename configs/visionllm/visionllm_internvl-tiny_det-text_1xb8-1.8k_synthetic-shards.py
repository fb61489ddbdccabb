# The main job trained from webdataset shards (streamed) instead of the map-style files. Write the shards once:
#   python tools/convert_to_shards.py configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py \
#       data/shards/det-text --split train --shard-size 500
# Each stream runs its source dataset's own pipeline (the same packed samples as the map-style data); the
# mixture draws sources with the main job's weights. Validation and test read the map-style splits.
_base_ = ['./visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py']

shard_root = 'data/shards/det-text'
train_dataloader = dict(
    sampler=None,  # a stream shards itself over ranks and workers
    dataset=dict(
        _delete_=True, type='StreamingMixture', weights=[0.55, 0.1, 0.15, 0.2],
        datasets=[
            dict(type='StreamingDataset', shards=f'{shard_root}/0_CocoOVDDataset', dataset={{_base_.det_train}}),
            dict(type='StreamingDataset', shards=f'{shard_root}/1_ReferringDataset', dataset={{_base_.grd_train}}),
            dict(type='StreamingDataset', shards=f'{shard_root}/2_ConversationDataset',
                 dataset={{_base_.caption_train}}),
            dict(type='StreamingDataset', shards=f'{shard_root}/3_ConversationDataset', dataset={{_base_.vqa_train}}),
        ]))
# checkpoints store the stream position; --resume continues from it (no sample repeated or skipped)
custom_hooks = [dict(type='BadSampleHook'), dict(type='ShowTrainSampleHook'), dict(type='ThroughputHook'),
                dict(type='StreamStateHook')]
