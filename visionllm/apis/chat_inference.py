"""The chat entries of :class:`VisionLLMInferencer`: answers (greedy, sampled, beam search), streamed or not; when
the LLM routes, the decoders' results come back with the answer."""
import queue
import threading
from typing import Dict, List, Optional, Sequence, Union

from visionllm.models.predict_options import PredictOptions

from .image_inputs import ImageInput, LoadedImage, to_original
from .predictions import merge_chunks
from .text_inputs import conversation


class ChatMixin:
    """``chat`` / ``chat_stream`` of :class:`VisionLLMInferencer`."""

    def chat(self, image: Optional[ImageInput], messages: Union[str, Sequence[dict]],
             max_new_tokens: Optional[int] = None, return_dict: bool = False, pred_score_thr: float = 0.3,
             **generation) -> Union[str, dict]:
        """Answer the last user turn of a conversation about an image (KV-cache generation).

        Args:
            messages: one question, or the whole conversation so far: ``[{'role': 'user', 'content': q1},
                {'role': 'assistant', 'content': a1}, {'role': 'user', 'content': q2}]`` (multi-round: the
                image and earlier turns stay in the context). ``<image>`` goes before the first question
                unless a message places it.
            generation: :class:`GenerationOptions` kwargs: ``do_sample``, ``temperature``, ``top_k``,
                ``top_p``, ``repetition_penalty``, ``seed`` (greedy by default), or ``num_beams`` and
                ``length_penalty`` for beam search. They apply to this call only.

        The answer never carries routing tokens: when the LLM routes (asked to detect, segment, locate, find
        keypoints, draw or edit), its query states go to the decoders and, with ``return_dict``, their results
        come back: ``{'text': answer, 'routes': [(name, token)], 'outputs': {family: result} (see
        :func:`routed_outputs`), 'predictions': outputs['det'] or None}``. Otherwise the answer text is returned.
        """
        return self._chat(image, messages, max_new_tokens, pred_score_thr, generation, None, return_dict)

    def chat_stream(self, image: Optional[ImageInput], messages: Union[str, Sequence[dict]],
                    max_new_tokens: Optional[int] = None, pred_score_thr: float = 0.3, **generation):
        """As :meth:`chat`, streamed: yields ``{'text': answer so far, 'done': False}`` as tokens come,
        then ``chat``'s result dict with ``'done': True``. The tokens of this call go to this call's queue only."""
        q: queue.Queue = queue.Queue()
        result: dict = {}

        def work():
            try:
                result['out'] = self._chat(image, messages, max_new_tokens, pred_score_thr, generation,
                                           lambda b, tok: q.put(tok), True)
            except BaseException as e:  # re-raised in the caller's thread
                result['error'] = e
            q.put(None)

        threading.Thread(target=work, daemon=True).start()
        ids = []
        while (tok := q.get()) is not None:
            ids.append(tok)
            yield dict(text=self._answer_text(ids), done=False)
        if 'error' in result:
            raise result['error']
        yield dict(result['out'], done=True)

    def _answer_text(self, ids: List[int]) -> str:
        from visionllm.evaluation import strip_routes
        tokens = list(self.model.superlink.token_to_family)
        return strip_routes(self.model._clean_text(ids), tokens)

    def _chat(self, image, messages, max_new_tokens, pred_score_thr, generation: dict, streamer,
              return_dict: bool):
        from visionllm.evaluation import parse_routes, strip_routes
        from visionllm.models.superlink import GenerationOptions
        conv = conversation(messages, with_image=image is not None)
        GenerationOptions(**generation)  # bad options fail here, with the option named
        options = PredictOptions(max_new_tokens=max_new_tokens, generation=dict(generation), streamer=streamer)
        if image is None:
            loaded, item = None, self._pack_only(conv, task='chat')
        else:
            loaded = self._load_one(image)
            item = self._prepare(loaded, conv, task='chat')
        sample = self._run([item], options)[0]
        tokens = list(self.model.superlink.token_to_family)
        text = strip_routes(sample.pred_text, tokens)
        if not return_dict:
            return text
        outputs = routed_outputs(sample, loaded, pred_score_thr)
        return dict(text=text, routes=parse_routes(sample.pred_text, tokens), outputs=outputs,
                    predictions=outputs.get('det'))


def routed_outputs(sample, loaded: Optional[LoadedImage], pred_score_thr: float) -> Dict[str, object]:
    """What the decoders made of an answer's routes, per family, in the file's coordinates: ``det``: as
    ``__call__`` gives one image's (boxes, masks, names scoring >= ``pred_score_thr``); ``seg``: ``{'label_map'
    [H, W], 'class_names'}``; ``pose``: ``{'bboxes', 'scores', 'keypoints' [N, K, 2], 'keypoint_scores',
    'keypoint_names'}``; ``image`` (generation, editing): RGB uint8 [S, S, 3]. Families not routed are absent."""
    out: Dict[str, object] = {}
    if 'pred_image' in sample:
        out['image'] = sample.pred_image.cpu().numpy().transpose(1, 2, 0)
    if loaded is None:
        return out
    if 'pred_pose' in sample:
        inst = sample.pred_pose[sample.pred_pose.scores >= pred_score_thr]
        out['pose'] = to_original(dict(bboxes=inst.bboxes.tolist(), scores=inst.scores.tolist(),
                                       keypoints=inst.keypoints.tolist(), keypoint_scores=inst.keypoint_scores.tolist(),
                                       keypoint_names=list(sample.metainfo.get('pred_keypoint_names', []))), loaded)
    if 'pred_sem_seg' in sample:
        out['seg'] = to_original(dict(label_map=sample.pred_sem_seg.data[0].cpu().numpy(),
                                      class_names=list(sample.metainfo.get('pred_class_names', []))), loaded)
    if 'pred_instances' in sample:
        out['det'] = merge_chunks([sample], pred_score_thr, loaded)[0]
    return out
