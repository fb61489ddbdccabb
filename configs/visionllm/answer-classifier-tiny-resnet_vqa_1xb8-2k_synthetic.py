# The VQA yardstick over a convolutional image path: answer-classifier-tiny_vqa_1xb8-2k_synthetic.py with the
# detection decoder's ResNet (half-width ResNet-18, trained from scratch here) on the decoders' 128 px image
# instead of the MLLM's vision tower; its last feature map, pooled to 4 x 4 cells, gives 16 image tokens.
_base_ = ['./answer-classifier-tiny_vqa_1xb8-2k_synthetic.py', '../_base_/models/det_decoder_tiny.py']
model = dict(backbone=dict(_base_.det_decoder.detector.backbone, out_indices=(3, )), backbone_tokens=16)
