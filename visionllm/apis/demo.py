"""The web demo: a Gradio app with one tab per task (detect, chat, segment, pose, generate, edit) over a
:class:`VisionLLMInferencer`. Each tab's function is also an API endpoint (``api_name`` = the tab's name)
for ``gradio_client``. Bad input (no image, an unreadable upload, an empty class list, a task the
checkpoint has no decoder for) gives a message in the page; the server keeps serving."""
import functools
import inspect
import json
import os
import os.path as osp
import tempfile
import traceback
from contextlib import contextmanager
from typing import Callable, List, Optional

import numpy as np
from mmengine.logging import print_log

from visionllm.utils.errors import VisionLLMError

from .inferencer import VisionLLMInferencer

TASK_FAMILY = dict(detect='det', segment='seg', pose='pose', generate='gen', edit='edit')


@contextmanager
def _as_message():
    """Any error -> a message shown in the page (gr.Error); unexpected ones are also logged in full."""
    import gradio as gr
    try:
        yield
    except gr.Error:
        raise
    except VisionLLMError as e:
        raise gr.Error(str(e)) from None
    except Exception as e:  # noqa: BLE001 - the server must keep serving
        print_log(traceback.format_exc(), logger='current', level=40)
        raise gr.Error(f'{type(e).__name__}: {e}') from None


def _user_errors(fn: Callable) -> Callable:
    """``fn`` (plain or streaming) with its errors shown as messages in the page."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streamed(*args, **kwargs):
            with _as_message():
                yield from fn(*args, **kwargs)
        return streamed

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        with _as_message():
            return fn(*args, **kwargs)
    return plain


class DemoFunctions:
    """The functions behind the tabs (plain Python: images in as file paths, pictures out as RGB arrays)."""

    def __init__(self, inferencer: VisionLLMInferencer):
        self.inf = inferencer
        self.families = set(inferencer.model.decoders)
        self.out_dir = tempfile.mkdtemp(prefix='visionllm_demo_')

    def _need(self, task: str) -> None:
        from visionllm.utils.errors import PromptError
        fam = TASK_FAMILY[task]
        if fam not in self.families:
            raise PromptError(f'this checkpoint has no `{fam}` decoder, so it cannot {task}; it has: '
                              f'{", ".join(sorted(self.families)) or "none (text only)"}')

    @staticmethod
    def _image(image: Optional[str]) -> str:
        from visionllm.utils.errors import PromptError
        if not image:
            raise PromptError('no image: upload one (or pick an example) first')
        return image

    def detect(self, image: Optional[str], names: str, free: bool = False, score_thr: float = 0.3):
        """-> (picture RGB [H, W, 3], table rows [name, score, x0, y0, x1, y1], JSON file path)."""
        self._need('detect')
        out = self.inf(self._image(image), texts=names, free=free, pred_score_thr=score_thr, return_vis=True)
        pred = out['predictions'][0]
        rows = [[n, round(s, 3)] + [round(v, 1) for v in b]
                for n, s, b in zip(pred['label_names'], pred['scores'], pred['bboxes'])]
        fd, path = tempfile.mkstemp(suffix='_detections.json', dir=self.out_dir,  # one file per request
                                    prefix=osp.splitext(osp.basename(image))[0] + '_')
        with os.fdopen(fd, 'w') as f:
            json.dump(pred, f)
        return out['visualization'][0], rows, path

    def chat(self, image: Optional[str], message: str, history: Optional[list], do_sample: bool = False,
             temperature: float = 1.0, top_p: float = 1.0, max_new_tokens: int = 64, num_beams: int = 1,
             seed: Optional[int] = 0):
        """Streams (history with the answer so far, '' for the textbox); the image stays in the context.
        Beam search (``num_beams`` > 1) answers at once. A sampled answer is reproducible with its ``seed``."""
        history = [dict(role=m['role'], content=_text(m['content'])) for m in (history or [])]
        conv = history + [dict(role='user', content=message)]
        opts = dict(do_sample=bool(do_sample), temperature=float(temperature), top_p=float(top_p),
                    max_new_tokens=int(max_new_tokens))
        if do_sample and seed is not None:
            opts['seed'] = int(seed)
        if int(num_beams) > 1:
            answer = self.inf.chat(self._image(image), conv, num_beams=int(num_beams), **opts)
            yield conv + [dict(role='assistant', content=answer)], ''
            return
        for part in self.inf.chat_stream(self._image(image), conv, **opts):
            yield conv + [dict(role='assistant', content=part['text'])], ''

    def segment(self, image: Optional[str], names: str):
        """-> (overlay picture, rows [class, fraction of the image])."""
        self._need('segment')
        res = self.inf.segment(self._image(image), names, return_vis=True)[0]
        lm = res['label_map']
        rows = [[n, round(float((lm == k).mean()), 4)] for k, n in enumerate(res['class_names'])]
        return res['visualization'], rows

    def pose(self, image: Optional[str], object_name: str, keypoints: str, score_thr: float = 0.3):
        """-> (picture, JSON of the instances and their keypoints)."""
        self._need('pose')
        res = self.inf.pose(self._image(image), object_name, keypoints, pred_score_thr=score_thr, return_vis=True)[0]
        vis = res.pop('visualization')
        return vis, res

    def generate(self, prompt: str, steps: int = 20, guidance_scale: float = 3.0, seed: int = 0) -> np.ndarray:
        self._need('generate')
        return self.inf.generate(prompt, num_inference_steps=int(steps), guidance_scale=float(guidance_scale),
                                 seed=int(seed))[0]

    def edit(self, image: Optional[str], instruction: str, steps: int = 20, guidance_scale: float = 3.0,
             seed: int = 0) -> np.ndarray:
        self._need('edit')
        return self.inf.edit(self._image(image), instruction, num_inference_steps=int(steps),
                             guidance_scale=float(guidance_scale), seed=int(seed))


def _text(content) -> str:
    """A Chatbot message's content (a string, or Gradio's list of typed parts) -> its text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get('text', ''))
    return ' '.join(_text(c) for c in content)


def _sampling_controls() -> list:
    """Diffusion sampling inputs of the generate / edit tabs: steps, guidance scale, seed."""
    import gradio as gr
    return [gr.Slider(1, 100, value=20, step=1, label='steps'),
            gr.Slider(1.0, 10.0, value=3.0, step=0.5, label='guidance scale'),
            gr.Number(value=0, precision=0, label='seed')]


def build_demo(inferencer: VisionLLMInferencer, examples: Optional[List[List[str]]] = None,
               title: str = 'VisionLLM'):
    """The Gradio Blocks app. ``examples``: ``[[image path, 'name . name']]`` preloaded in the tabs."""
    import gradio as gr
    fn = DemoFunctions(inferencer)
    examples = examples or []
    note = lambda task: gr.Markdown(  # noqa: E731
        f'*This checkpoint has no `{TASK_FAMILY[task]}` decoder: {task} answers with a message.*',
        visible=TASK_FAMILY[task] not in fn.families)
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown(f'# {title}\nOne model, one instruction per task. Decoders in this checkpoint: '
                    f'{", ".join(sorted(fn.families)) or "none (text only)"}.')
        with gr.Tab('Detect'):
            note('detect')
            with gr.Row():
                with gr.Column():
                    d_img = gr.Image(type='filepath', label='image', elem_id='detect_image')
                    d_names = gr.Textbox(label="class names, separated by ' . '", elem_id='detect_names',
                                         value='red circle . blue square')
                    with gr.Row():
                        d_free = gr.Checkbox(label='free (the LLM writes the routes)', value=False)
                        d_thr = gr.Slider(0, 1, value=0.2, step=0.05, label='score threshold')
                    d_btn = gr.Button('Detect', variant='primary', elem_id='detect_button')
                with gr.Column():
                    d_out = gr.Image(type='numpy', label='detections', elem_id='detect_output', format='png')
                    d_table = gr.Dataframe(headers=['name', 'score', 'x0', 'y0', 'x1', 'y1'], label='boxes (image '
                                           'coordinates)', interactive=False)
                    d_json = gr.File(label='JSON')
            if examples:
                gr.Examples(examples, inputs=[d_img, d_names])
            d_btn.click(_user_errors(fn.detect), [d_img, d_names, d_free, d_thr], [d_out, d_table, d_json],
                        api_name='detect')
        with gr.Tab('Chat'):
            with gr.Row():
                with gr.Column(scale=1):
                    c_img = gr.Image(type='filepath', label='image')
                    c_sample = gr.Checkbox(label='sample (else greedy)', value=False)
                    c_temp = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label='temperature')
                    c_top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label='top-p')
                    c_max = gr.Slider(1, 256, value=64, step=1, label='max new tokens')
                    c_beams = gr.Slider(1, 8, value=1, step=1, label='beams (1: greedy / sampled, streamed)')
                    c_seed = gr.Number(value=0, precision=0, label='seed (sampling)')
                with gr.Column(scale=2):
                    c_bot = gr.Chatbot(label='conversation', height=360)
                    c_msg = gr.Textbox(label='message', placeholder='How many red circles are there?')
                    with gr.Row():
                        c_btn = gr.Button('Send', variant='primary')
                        c_clear = gr.Button('Clear')
            if examples:
                gr.Examples([[e[0]] for e in examples], inputs=[c_img])
            c_inputs = [c_img, c_msg, c_bot, c_sample, c_temp, c_top_p, c_max, c_beams, c_seed]
            c_btn.click(_user_errors(fn.chat), c_inputs, [c_bot, c_msg], api_name='chat')
            c_msg.submit(_user_errors(fn.chat), c_inputs, [c_bot, c_msg], api_name=False)
            c_clear.click(lambda: ([], ''), None, [c_bot, c_msg], api_name=False)
            c_img.change(lambda: [], None, c_bot, api_name=False)  # a new image starts a new conversation
        with gr.Tab('Segment'):
            note('segment')
            with gr.Row():
                with gr.Column():
                    s_img = gr.Image(type='filepath', label='image')
                    s_names = gr.Textbox(label="class names, separated by ' . '",
                                         value='background . red circle . blue square')
                    s_btn = gr.Button('Segment', variant='primary')
                with gr.Column():
                    s_out = gr.Image(type='numpy', label='segmentation', format='png')
                    s_table = gr.Dataframe(headers=['class', 'fraction of the image'], interactive=False)
            if examples:
                gr.Examples([[e[0]] for e in examples], inputs=[s_img])
            s_btn.click(_user_errors(fn.segment), [s_img, s_names], [s_out, s_table], api_name='segment')
        with gr.Tab('Pose'):
            note('pose')
            with gr.Row():
                with gr.Column():
                    p_img = gr.Image(type='filepath', label='image')
                    p_obj = gr.Textbox(label='object', value='red circle')
                    p_kpts = gr.Textbox(label="keypoint names, separated by ' . '", value='top . left . center')
                    p_thr = gr.Slider(0, 1, value=0.3, step=0.05, label='score threshold')
                    p_btn = gr.Button('Find keypoints', variant='primary')
                with gr.Column():
                    p_out = gr.Image(type='numpy', label='keypoints', format='png')
                    p_json = gr.JSON(label='instances')
            if examples:
                gr.Examples([[e[0]] for e in examples], inputs=[p_img])
            p_btn.click(_user_errors(fn.pose), [p_img, p_obj, p_kpts, p_thr], [p_out, p_json], api_name='pose')
        with gr.Tab('Generate'):
            note('generate')
            with gr.Row():
                with gr.Column():
                    g_text = gr.Textbox(label='prompt', value='a red circle above a blue square')
                    g_sampling = _sampling_controls()
                    g_btn = gr.Button('Generate', variant='primary')
                g_out = gr.Image(type='numpy', label='generated', format='png')
            g_btn.click(_user_errors(fn.generate), [g_text, *g_sampling], g_out, api_name='generate')
        with gr.Tab('Edit'):
            note('edit')
            with gr.Row():
                with gr.Column():
                    e_img = gr.Image(type='filepath', label='image')
                    e_text = gr.Textbox(label='instruction', value='make the red circle blue')
                    e_sampling = _sampling_controls()
                    e_btn = gr.Button('Edit', variant='primary')
                e_out = gr.Image(type='numpy', label='edited', format='png')
            if examples:
                gr.Examples([[e[0]] for e in examples], inputs=[e_img])
            e_btn.click(_user_errors(fn.edit), [e_img, e_text, *e_sampling], e_out, api_name='edit')
    return demo


def test_split_examples(data_root: str, n: int = 4) -> List[List[str]]:
    """``[[image path, names]]`` for the first ``n`` images of a COCO-format test split under ``data_root``
    (``annotations/instances_test.json``): each image's categories plus one it does not contain."""
    ann = osp.join(data_root, 'annotations', 'instances_test.json')
    if not osp.exists(ann):
        return []
    with open(ann) as f:
        coco = json.load(f)
    cats = {c['id']: c['name'] for c in coco['categories']}
    out = []
    for img in coco['images'][:n]:
        present = list(dict.fromkeys(cats[a['category_id']] for a in coco['annotations']
                                     if a['image_id'] == img['id']))
        absent = next((c for c in cats.values() if c not in present), None)
        path = osp.join(data_root, img['file_name'])
        if osp.exists(path):
            out.append([osp.abspath(path), ' . '.join(present + ([absent] if absent else []))])
    return out
