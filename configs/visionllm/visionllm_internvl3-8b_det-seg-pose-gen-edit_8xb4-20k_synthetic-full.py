# InternVL3-8B-sized variant of the full generalist (ZeRO-3 / FSDP territory: --deepspeed zero3).
_base_ = ['./visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py']
model = dict(mllm={{_base_.internvl3_8b_mllm}})
