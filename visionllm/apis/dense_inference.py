"""The per-image entries of :class:`VisionLLMInferencer` beyond detection: semantic segmentation, keypoints and any
registered task. Each has a generator form (``iter_*``: one image's result at a time, so a folder never holds
more than a batch of full-size maps) and a list form."""
from typing import Callable, Iterator, List, Optional, Sequence, Union

from visionllm.datasets import prompts
from visionllm.utils.errors import PromptError

from .image_inputs import ImageInput, list_images, to_original
from .predictions import as_lists, jsonable
from .text_inputs import parse_texts

ImageInputs = Union[ImageInput, Sequence[ImageInput]]


class DenseInferenceMixin:
    """``segment`` / ``pose`` / ``run_task`` (and their ``iter_*`` forms) of :class:`VisionLLMInferencer`.

    Common arguments: ``batch_size`` images per forward; ``out_dir``: overlay pictures ``vis/<name>.png``
    written as each image is done; ``skip_errors``: unreadable files are skipped with one logged line and
    appended to ``skipped`` (a list of ``{'image', 'reason'}`` of this call) instead of raised; ``progress``:
    a progress bar over files; ``return_vis``: each result also carries its picture (``visualization``, RGB).
    """

    def segment(self, inputs: ImageInputs, texts, **kwargs) -> List[dict]:
        """:meth:`iter_segment`'s results as a list."""
        return list(self.iter_segment(inputs, texts, **kwargs))

    def iter_segment(self, inputs: ImageInputs, texts, batch_size: int = 1, out_dir: Optional[str] = None,
                     skip_errors: bool = False, progress: bool = False, return_vis: bool = False,
                     skipped: Optional[List[dict]] = None) -> Iterator[dict]:
        """Semantic segmentation over the prompted class names: per image ``{'label_map': [H, W] int
        (index into 'class_names'), 'class_names': [...], 'image', 'image_size'}``."""
        names = parse_texts(texts)
        if len(names) > self.max_classes_per_prompt:
            raise PromptError(f'{len(names)} classes; at most {self.max_classes_per_prompt} per segmentation prompt')
        conv = prompts.seg_conversation(names)
        yield from self._dense(inputs, conv, dict(task='semseg', class_names=names), batch_size, out_dir,
                               lambda s: dict(label_map=s.pred_sem_seg.data[0].cpu().numpy(), class_names=names),
                               0.3, skip_errors, progress, return_vis, skipped)

    def pose(self, inputs: ImageInputs, object_name: str, keypoints, **kwargs) -> List[dict]:
        """:meth:`iter_pose`'s results as a list."""
        return list(self.iter_pose(inputs, object_name, keypoints, **kwargs))

    def iter_pose(self, inputs: ImageInputs, object_name: str, keypoints, batch_size: int = 1,
                  pred_score_thr: float = 0.3, out_dir: Optional[str] = None, skeleton: Sequence[Sequence[str]] = (),
                  skip_errors: bool = False, progress: bool = False, return_vis: bool = False,
                  skipped: Optional[List[dict]] = None) -> Iterator[dict]:
        """Detect ``object_name`` and locate the named ``keypoints`` of each instance: per image
        ``{'bboxes', 'scores', 'keypoints' [N, K, 2], 'keypoint_scores' [N, K], 'keypoint_names'}``."""
        kpts = parse_texts(keypoints)
        obj = parse_texts([object_name])[0]
        conv = prompts.pose_conversation(obj, kpts)

        def result(s):
            inst = s.pred_pose if 'pred_pose' in s else s.pred_instances
            keep = (inst.scores >= pred_score_thr).nonzero().flatten()
            inst = inst[keep] if 'keypoints' in inst else inst[keep[:0]]
            return dict(bboxes=inst.bboxes.tolist(), scores=inst.scores.tolist(), keypoint_names=kpts,
                        keypoints=inst.keypoints.tolist() if 'keypoints' in inst else [],
                        keypoint_scores=inst.keypoint_scores.tolist() if 'keypoint_scores' in inst else [])
        yield from self._dense(inputs, conv, dict(task='pose', class_names=[obj], keypoint_names=kpts,
                                                  skeleton=[tuple(p) for p in skeleton]),
                               batch_size, out_dir, result, pred_score_thr, skip_errors, progress, return_vis, skipped)

    def run_task(self, inputs: ImageInputs, task: str, texts, **kwargs) -> List[dict]:
        """:meth:`iter_task`'s results as a list."""
        return list(self.iter_task(inputs, task, texts, **kwargs))

    def iter_task(self, inputs: ImageInputs, task: str, texts, batch_size: int = 1, out_dir: Optional[str] = None,
                  skip_errors: bool = False, progress: bool = False,
                  skipped: Optional[List[dict]] = None) -> Iterator[dict]:
        """Any registered task through its spec (``visionllm.structures.tasks``): the names in ``texts`` are
        prompted with the task's generic conversation (the one its datasets build); per image the spec's
        ``pred_fields`` as JSON-ready values (dense maps as nested lists [C, H, W] at the file's size, other
        tensors / data elements as lists / dicts) and ``class_names``."""
        from mmengine.structures import PixelData

        from visionllm.structures.tasks import task_spec
        try:
            spec = task_spec(task)
        except KeyError as e:
            raise PromptError(e.args[0]) from None
        if spec.family != 'text' and spec.family not in self.model.decoders:
            raise PromptError(f'task {task!r} needs the `{spec.family}` decoder, which this model does not have')
        names = parse_texts(texts)
        try:
            conv = prompts.task_conversation(spec, names)
        except ValueError as e:
            raise PromptError(str(e)) from None

        def result(s):  # dense maps (PixelData) as arrays [C, h, w]: to_original brings them to the file's size
            fields = {f: s.get(f) for f in spec.pred_fields if f in s}
            return dict({f: v.data.cpu().numpy() if isinstance(v, PixelData) else jsonable(v)
                         for f, v in fields.items()}, class_names=names)
        meta = dict(task=task, class_names=names, gt_groups=[(n, spec.route) for n in names])
        for r in self._dense(inputs, conv, meta, batch_size, out_dir, result, 0.3, skip_errors, progress, False,
                             skipped):
            yield as_lists(r)

    def _dense(self, inputs: ImageInputs, conv: list, meta: dict, batch_size: int, out_dir: Optional[str],
               result: Callable, pred_score_thr: float, skip_errors: bool, progress: bool, return_vis: bool,
               skipped: Optional[List[dict]]) -> Iterator[dict]:
        skipped = [] if skipped is None else skipped
        for group in self._each_loaded(list_images(inputs), batch_size, skip_errors, skipped, progress):
            for image, s in zip(group, self._run([self._prepare(img, conv, **meta) for img in group])):
                out = to_original(result(s), image)
                vis: list = []
                self._draw(image, s, out_dir, pred_score_thr, return_vis, vis)
                if return_vis:
                    out['visualization'] = vis[0]
                yield out
