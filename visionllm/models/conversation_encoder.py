"""Conversation -> token ids, in the dataloader workers: the chat template and the super-link's query slots
of a model, in a picklable object (no parameters) that ``PackVisionLLMInputs`` calls."""
from typing import List, Tuple

from visionllm.utils.errors import BadSampleError

from .mllm.chat_template import IGNORE_INDEX
from .superlink.slots import SlotExpander


class ConversationEncoder:
    """A training sample's messages -> (input_ids, labels), exactly as ``VisionLLM.encode_sample`` writes them
    (chat template, ``num_tiles x num_image_tokens`` image slots, query slots after routing tokens).

    Args:
        template: the model's ``ChatTemplate`` (its tokenizer).
        expander: the super-link's ``SlotExpander``.
        num_image_tokens: LLM tokens per image tile.
        max_length: longest sequence; a longer sample is a bad sample (skipped and counted in training).
    """

    def __init__(self, template, expander: SlotExpander, num_image_tokens: int, max_length: int):
        self.template, self.expander = template, expander
        self.num_image_tokens, self.max_length = num_image_tokens, max_length

    def __call__(self, messages: List[dict], num_tiles: int, source: str = '?') -> Tuple[List[int], List[int]]:
        ids, labels = self.template.encode(messages, num_tiles * self.num_image_tokens, add_generation_prompt=False)
        ids, labels = self.expander(ids, labels, IGNORE_INDEX)
        if len(ids) > self.max_length:
            raise BadSampleError(source, 'messages', f'{len(ids)} tokens exceed max_length={self.max_length}; '
                                 'shorten the prompt or class list')
        return ids, labels
