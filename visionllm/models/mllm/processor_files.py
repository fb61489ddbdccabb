"""The processor side of an exported InternVL-hf directory: what ``AutoProcessor`` / ``apply_chat_template``
read next to the weights, written to match how this project encodes conversations and tiles.

- ``chat_template.jinja`` (through the tokenizer): ChatML turns as :class:`ChatTemplate` writes them, the
  default system prompt, one ``<IMG_CONTEXT>`` per image for the processor to expand into
  ``<img>`` + ``image_seq_length`` x ``<IMG_CONTEXT>`` + ``</img>`` (a string content's ``<image>`` too).
- the tokenizer's named image tokens (``start_image_token`` ...), which ``InternVLProcessor`` reads.
- ``preprocessor_config.json``: GotOcr2 tiling at the vision tower's tile size, ImageNet mean / std.
- ``processor_config.json``: ``InternVLProcessor`` with ``image_seq_length`` tokens per tile.

``AutoProcessor`` itself also builds InternVL's video processor, which needs torchvision.
"""
import json
import os.path as osp

SYSTEM = 'You are a helpful assistant.'
IMAGE_TOKEN_NAMES = dict(start_image_token='<img>', end_image_token='</img>', context_image_token='<IMG_CONTEXT>',
                         video_token='<video>')
CHAT_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\n" + SYSTEM + "<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if answer_space and m['role'] == 'assistant' %} {% endif %}"
    "{% if m['content'] is string %}{{ m['content'] | replace('<image>', '<IMG_CONTEXT>') }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<IMG_CONTEXT>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def write_processor_files(save_dir: str, tokenizer, tile_size: int, max_tiles: int, image_seq_length: int,
                          answer_space: bool = False):
    """Write the tokenizer with the chat template and named image tokens (``<video>`` joins the vocabulary
    if it was missing), the image-processor and processor configs to ``save_dir``; returns the written
    tokenizer (the model saved beside it needs ``len(tokenizer)`` embedding rows). ``answer_space``: assistant
    turns start with a space, as :class:`ChatTemplate` (``answer_space=True``) trained them."""
    from transformers import AutoTokenizer
    from transformers.models.got_ocr2 import GotOcr2ImageProcessorPil

    from visionllm.models.data_preprocessor import IMAGENET_MEAN, IMAGENET_STD
    tokenizer.save_pretrained(save_dir)
    tok = AutoTokenizer.from_pretrained(save_dir, extra_special_tokens=IMAGE_TOKEN_NAMES)
    tok.chat_template = ('{% set answer_space = true %}' if answer_space else '{% set answer_space = false %}') + \
        CHAT_TEMPLATE
    tok.save_pretrained(save_dir)
    GotOcr2ImageProcessorPil(
        size=dict(height=tile_size, width=tile_size), crop_to_patches=max_tiles > 1, min_patches=1,
        max_patches=max(max_tiles, 1), image_mean=[m / 255 for m in IMAGENET_MEAN],
        image_std=[s / 255 for s in IMAGENET_STD]).save_pretrained(save_dir)
    with open(osp.join(save_dir, 'processor_config.json'), 'w') as f:
        json.dump(dict(processor_class='InternVLProcessor', image_seq_length=image_seq_length), f, indent=2)
    return tok
