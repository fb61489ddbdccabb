# Three-stage recipe at full size, stage 2 (joint multitask): every task and decoder family on the task-grouped
# mixture (the joint config), starting from stage 1's checkpoint.
_base_ = ['./visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py']
load_from = 'work_dirs/visionllm_internvl3-1b_stage1-chat_8xb4-5k_synthetic-full/iter_5000.pth'
