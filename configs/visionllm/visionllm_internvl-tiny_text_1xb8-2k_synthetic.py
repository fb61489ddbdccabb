# Text tasks (captioning + VQA) of the tiny generalist on the embedded synthetic data.
_base_ = [
    '../_base_/models/visionllm_internvl-tiny.py', '../_base_/datasets/synthetic_text.py',
    '../_base_/schedules/adamw_2k.py', '../_base_/default_runtime.py'
]
