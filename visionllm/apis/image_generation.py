"""The text-to-image and editing entries of :class:`VisionLLMInferencer`."""
from typing import List, Optional, Sequence, Union

import numpy as np

from visionllm.datasets import prompts
from visionllm.models.predict_options import PredictOptions
from visionllm.utils.errors import PromptError

from .image_inputs import ImageInput


class ImageGenerationMixin:
    """``generate`` / ``edit`` of :class:`VisionLLMInferencer`."""

    def generate(self, prompts_: Union[str, Sequence[str]], free: bool = False, batch_size: int = 4,
                 **sampling) -> List[np.ndarray]:
        """Text -> images (RGB uint8 [S, S, 3] each). ``sampling``: ``num_inference_steps``,
        ``guidance_scale``, ``scheduler``, ``seed`` (the decoder's test_cfg for this call)."""
        texts = [prompts_] if isinstance(prompts_, str) else list(prompts_)
        for t in texts:
            if not t or not t.strip():
                raise PromptError('empty generation prompt')
        items = []
        for t in texts:
            conv = prompts.gen_conversation(t)
            items.append(self._pack_only(conv[:1] if free else conv, task='gen', text=t))
        return self._images(items, batch_size, sampling, 'gen')

    def edit(self, image: Optional[ImageInput], instruction: str, free: bool = False, **sampling) -> np.ndarray:
        """Edit one image following ``instruction``; returns RGB uint8 [S, S, 3]. ``sampling`` as in
        :meth:`generate`, plus ``image_guidance_scale``."""
        if image is None:
            raise PromptError('an edit request needs an image')
        if not instruction or not instruction.strip():
            raise PromptError('empty edit instruction')
        conv = prompts.edit_conversation(instruction)
        item = self._prepare(self._load_one(image), conv[:1] if free else conv, task='edit', instruction=instruction)
        return self._images([item], 1, sampling, 'edit')[0]

    def _images(self, items: list, batch_size: int, sampling: dict, family: str) -> List[np.ndarray]:
        if family not in self.model.decoders:
            raise PromptError(f'this model has no `{family}` decoder')
        self.model.decoders[family].call_test_cfg(sampling)  # an unknown option fails before any work
        options = PredictOptions(decoders={family: dict(sampling)})
        out = []
        for s in self._run_batched(items, batch_size, options):
            if 'pred_image' not in s:
                raise PromptError(f'the model answered without a {family} route: {s.get("pred_text", "")!r}')
            out.append(s.pred_image.cpu().numpy().transpose(1, 2, 0))
        return out
