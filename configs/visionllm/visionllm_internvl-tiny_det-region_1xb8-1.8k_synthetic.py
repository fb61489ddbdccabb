# The main job plus visual prompts: the tiny generalist trained jointly on captioning, VQA, open-vocabulary
# detection with instance masks, referring, and region inputs (a region encoder writes the `<region>` tokens):
# region captioning, interactive segmentation (click / box / scribble / mask -> that object's mask) and
# detection by example (every object like the region's). Evaluated on the main job's metrics plus region
# recognition accuracy, interactive mIoU at 1 box / 1 click, by-example box AP (seen and held-out names) and
# counting MAE.
_base_ = ['./visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py']
model = dict(region_encoder=dict(token='<region>', channels=32, max_regions=8),
             test_cfg=dict(max_new_tokens=dict(_delete_=True, default=160, **{'region-caption': 12})))
train_dataloader = dict(dataset=dict(
    weights=[0.4, 0.05, 0.1, 0.1, 0.1, 0.1, 0.15],
    datasets=[{{_base_.det_train}}, {{_base_.grd_train}}, {{_base_.caption_train}}, {{_base_.vqa_train}},
              {{_base_.region_caption_train}}, {{_base_.iseg_train}}, {{_base_.vpdet_train}}]))
val_dataloader = dict(dataset=dict(datasets=[
    {{_base_.det_val}}, {{_base_.det_free_val}}, {{_base_.grd_val}}, {{_base_.caption_val}}, {{_base_.vqa_val}},
    {{_base_.region_caption_val}}, {{_base_.iseg_val}}, {{_base_.vpdet_val}}]))
test_dataloader = dict(dataset=dict(datasets=[
    {{_base_.det_test}}, {{_base_.det_free_test}}, {{_base_.grd_test}}, {{_base_.caption_test}}, {{_base_.vqa_test}},
    {{_base_.region_caption_test}}, {{_base_.iseg_test}}, {{_base_.vpdet_test}}]))
val_evaluator = {{_base_.det_region_val_evaluators}}
test_evaluator = {{_base_.det_region_test_evaluators}}
