"""Open-vocabulary detection (boxes + masks) or chat on images with a trained generalist.

Examples:
  python tools/infer.py demo/ CONFIG --weights CKPT --texts 'red circle . blue square' --out-dir outputs
  python tools/infer.py img.png CONFIG --weights CKPT --question 'How many red circles are there?'
  python tools/infer.py imgs/ CONFIG --weights CKPT --segment --texts 'background . red circle'
  python tools/infer.py imgs/ CONFIG --weights CKPT --pose shape --keypoints 'top . left . center'
  python tools/infer.py out_name CONFIG --weights CKPT --generate 'a red circle above a blue square'
  python tools/infer.py img.png CONFIG --weights CKPT --edit 'make the red circle blue'
  python tools/infer.py imgs/ CONFIG --weights CKPT --task semseg --texts 'background . red circle'
  python tools/infer.py img.png CONFIG --weights CKPT --task interactive-seg --point 40,52 --region 10,10,60,70
  python tools/infer.py img.png CONFIG --weights CKPT --task detect-by-example --region 10,10,60,70
  python tools/infer.py img.png CONFIG --weights CKPT --task region-caption --region 10,10,60,70
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('inputs', help='an image file or a directory of images')
    p.add_argument('config', help='model config')
    p.add_argument('--weights', help='checkpoint file')
    p.add_argument('--texts', help="class names separated by ' . ', e.g. 'red circle . blue square'")
    p.add_argument('--task', help='a registered task (visionllm.structures.tasks: det, semseg, pose, gen, edit, '
                   'chat, ...): its inference entry, with --texts as its input (names, question, prompt)')
    p.add_argument('--question', help='ask this question instead of detecting (chat)')
    p.add_argument('--segment', action='store_true', help='semantic segmentation of --texts instead of detection')
    p.add_argument('--pose', metavar='OBJECT', help="keypoints of each OBJECT, named by --keypoints 'a . b'")
    p.add_argument('--keypoints', help="keypoint names for --pose, e.g. 'top . left . center'")
    p.add_argument('--generate', help='generate an image from this text (inputs is then the output name)')
    p.add_argument('--edit', help='edit each input image following this instruction')
    p.add_argument('--steps', type=int, help='diffusion sampling steps (generate / edit)')
    p.add_argument('--guidance-scale', type=float, help='classifier-free guidance scale (generate / edit)')
    p.add_argument('--do-sample', action='store_true', help='--question: sample the answer (else greedy)')
    p.add_argument('--temperature', type=float, default=1.0, help='--question with --do-sample')
    p.add_argument('--top-p', type=float, default=1.0, help='--question with --do-sample')
    p.add_argument('--num-beams', type=int, default=1, help='--question: beam search with this many beams')
    p.add_argument('--free', action='store_true', help='let the LLM generate the answer (routing tokens) '
                   'instead of running the answer template in one forward')
    p.add_argument('--region', action='append', metavar='X0,Y0,X1,Y1',
                   help='a box visual prompt in the file\'s pixels (repeat for several; with --task region-caption, '
                   'interactive-seg or detect-by-example)')
    p.add_argument('--point', action='append', metavar='X,Y', help='a click visual prompt (repeat for several)')
    p.add_argument('--scribble', action='append', metavar='X,Y;X,Y;...', help='a scribble visual prompt')
    p.add_argument('--mask', action='append', metavar='PNG', help='a mask visual prompt: an image file of the '
                   'input\'s size whose non-zero pixels are the region')
    p.add_argument('--out-dir', default='outputs', help='where vis/*.png and preds/*.json go')
    p.add_argument('--pred-score-thr', type=float, default=0.3)
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--max-image-size', type=int, default=1333,
                   help='images with a longer side are downscaled for the model (results in file coordinates)')
    p.add_argument('--strict', action='store_true', help='exit non-zero if any file was skipped')
    p.add_argument('--device', default='cpu')
    return p.parse_args()


def _each_file(images, skipped, fn):
    """Call fn(image, output name) per file (names unique among the inputs: ``a.png`` and ``a.jpg`` do not
    overwrite each other's outputs); an unreadable one is recorded in ``skipped`` and logged in one line."""
    from mmengine.logging import print_log

    from visionllm.apis.image_inputs import output_names
    from visionllm.utils.errors import BadSampleError
    for img, name in zip(images, output_names(images)):
        try:
            fn(img, name)
        except BadSampleError as e:
            skipped.append(dict(image=str(img), reason=e.reason))
            print_log(f'skipped {img}: {e.reason}', logger='current', level=30)


def _finish(done: int, skipped: list, strict: bool) -> None:
    """One summary line; exit 1 when nothing could be done, or with --strict when anything was skipped."""
    reasons = {}
    for s in skipped:
        reason = s['reason'].split(' (')[0]  # e.g. 'cannot decode image', without the file's details
        reasons[reason] = reasons.get(reason, 0) + 1
    why = '; '.join(f'{n} x {r}' for r, n in reasons.items())
    print(f'{done} done, {len(skipped)} skipped' + (f' ({why})' if why else ''))
    if (skipped and strict) or (done == 0 and skipped):
        sys.exit(1)


def _write_routed(res: dict, name: str, out_dir: str) -> str:
    """A routed chat answer's decoder results: ``preds/<name>.json`` (detections, keypoints, class pixel
    counts of the label map, the answer) and the generated / edited picture ``preds/<name>_image.png``; returns
    a short summary."""
    import json
    import os

    import numpy as np

    from visionllm.datasets.transforms.loading import write_rgb
    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
    out, said = dict(answer=res['text']), []
    for family, value in res['outputs'].items():
        if family == 'image':
            path = osp.join(out_dir, 'preds', name + '_image.png')
            write_rgb(path, value)
            said.append(f'picture: {path}')
        elif family == 'seg':
            lm = np.asarray(value['label_map'])
            out['seg'] = dict(class_names=value['class_names'], label_counts={
                n: int((lm == k).sum()) for k, n in enumerate(value['class_names'])})
            said.append(f'{len(value["class_names"])} classes segmented')
        else:
            out[family] = value
            said.append(f'{len(value["scores"])} {"instances with keypoints" if family == "pose" else "objects"}')
    if len(out) > 1:
        path = osp.join(out_dir, 'preds', name + '.json')
        with open(path, 'w') as f:
            json.dump(out, f)
        said.append(path)
    return '; '.join(said)


# a task's inference entry (TaskSpec.infer) -> the flag that runs it, given --texts
ENTRY_FLAGS = dict(segment='segment', pose='pose', generate='generate', edit='edit', chat='question')
# entries that take visual prompts (--region / --point) instead of --texts
REGION_ENTRIES = ('region_caption', 'interactive_segment', 'detect_by_example')


def apply_task(args) -> None:
    """``--task NAME``: the registered task's inference entry, through the same path as its own flag."""
    from visionllm.structures.tasks import task_spec
    if osp.isfile(args.config):  # its custom_imports may register the task (a task added outside the package)
        from mmengine.config import Config
        Config.fromfile(args.config)
    try:
        spec = task_spec(args.task)
    except KeyError as e:
        sys.exit(f'--task: {e.args[0]}')
    if spec.infer == '__call__':  # detection: the default path
        return
    if spec.infer in REGION_ENTRIES:
        if not (args.region or args.point or getattr(args, 'scribble', None) or getattr(args, 'mask', None)):
            sys.exit(f'--task {args.task} needs visual prompts: --region x0,y0,x1,y1, --point x,y, --scribble '
                     'x,y;x,y;... or --mask PNG')
        args.region_entry = spec.infer
        return
    if spec.infer not in ENTRY_FLAGS and spec.infer != 'run_task':
        sys.exit(f'--task {args.task}: the task declares no inference entry tools/infer.py runs '
                 f'(TaskSpec.infer = {spec.infer!r}; entries: __call__, run_task, {", ".join(ENTRY_FLAGS)}, '
                 f'{", ".join(REGION_ENTRIES)})')
    if not args.texts:
        sys.exit(f'--task {args.task} needs --texts (the names, question, prompt or instruction)')
    if spec.infer == 'run_task':  # the generic entry of a registered task
        args.run_task = True
        return
    if spec.infer == 'pose' and not args.keypoints:
        sys.exit(f'--task {args.task} needs --keypoints (the keypoint names, e.g. \'top . left . center\')')
    flag = ENTRY_FLAGS[spec.infer]
    setattr(args, flag, True if flag == 'segment' else args.texts)


def _regions(inf, args) -> None:
    """A visual-prompt task on each input image: preds/<name>.json, vis/<name>.png and one line per image."""
    import json
    import os

    from visionllm.apis import list_images
    from visionllm.apis.region_inference import parse_regions
    regions = parse_regions(args.region, args.point, args.scribble, args.mask)
    images, skipped = list_images(args.inputs), []
    os.makedirs(osp.join(args.out_dir, 'preds'), exist_ok=True)

    def one(img, name):
        fn = getattr(inf, args.region_entry)
        kw = dict(pred_score_thr=args.pred_score_thr) if args.region_entry == 'detect_by_example' else {}
        res = fn(img, regions, out_dir=args.out_dir, name=name, **kw)
        path = osp.join(args.out_dir, 'preds', name + '.json')
        with open(path, 'w') as f:
            json.dump(res, f)
        said = res.get('text') if 'text' in res else f'{len(res["scores"])} masks'
        print(f'{img}: {said}  [{path}]')
    _each_file(images, skipped, one)
    _finish(len(images) - len(skipped), skipped, args.strict)


def main():
    args = parse_args()
    if args.task:
        apply_task(args)
    from visionllm.apis import VisionLLMInferencer, list_images
    from visionllm.apis.runner_utils import friendly_errors
    skipped = []
    with friendly_errors(args.config):
        inf = VisionLLMInferencer(args.config, args.weights, device=args.device,
                                  max_image_size=args.max_image_size)
        if getattr(args, 'region_entry', None):
            return _regions(inf, args)
        if getattr(args, 'run_task', False):
            import json
            import os
            res = inf.run_task(args.inputs, args.task, args.texts, batch_size=args.batch_size, out_dir=args.out_dir,
                               skip_errors=True, progress=True, skipped=skipped)
            os.makedirs(args.out_dir, exist_ok=True)
            with open(osp.join(args.out_dir, 'predictions.json'), 'w') as f:
                json.dump(res, f)
            print(f'{args.task}: JSON in {osp.join(args.out_dir, "predictions.json")}')
            return _finish(len(res), skipped, args.strict)
        if args.generate or args.edit:
            import os

            from visionllm.datasets.transforms.loading import write_rgb
            os.makedirs(args.out_dir, exist_ok=True)
            opts = dict(num_inference_steps=args.steps, guidance_scale=args.guidance_scale)
            if args.generate:
                path = osp.join(args.out_dir, osp.splitext(osp.basename(args.inputs))[0] + '.png')
                write_rgb(path, inf.generate(args.generate, free=args.free, **opts)[0])
                print(f'wrote {path}')
                return
            images = list_images(args.inputs)

            def edit(img, name):
                path = osp.join(args.out_dir, 'edited_' + name + '.png')
                write_rgb(path, inf.edit(img, args.edit, free=args.free, **opts))
                print(f'wrote {path}')
            _each_file(images, skipped, edit)
            return _finish(len(images) - len(skipped), skipped, args.strict)
        if args.segment or args.pose:
            import json
            import os
            common = dict(batch_size=args.batch_size, out_dir=args.out_dir, skip_errors=True, progress=True,
                          skipped=skipped)
            if args.segment:  # one full-size label map at a time: each image's is counted, then dropped
                res = [dict(image=r['image'], class_names=r['class_names'], label_counts={
                    r['class_names'][k]: int((r['label_map'] == k).sum()) for k in range(len(r['class_names']))})
                    for r in inf.iter_segment(args.inputs, args.texts, **common)]
            else:
                res = inf.pose(args.inputs, args.pose, args.keypoints, pred_score_thr=args.pred_score_thr, **common)
            os.makedirs(args.out_dir, exist_ok=True)
            with open(osp.join(args.out_dir, 'predictions.json'), 'w') as f:
                json.dump(res, f)
            print(f'pictures in {osp.join(args.out_dir, "vis")}, JSON in {osp.join(args.out_dir, "predictions.json")}')
            return _finish(len(res), skipped, args.strict)
        if args.question:
            import json
            import os
            images = list_images(args.inputs)

            def ask(img, name):
                res = inf.chat(img, args.question, return_dict=True, pred_score_thr=args.pred_score_thr,
                               do_sample=args.do_sample, temperature=args.temperature, top_p=args.top_p,
                               num_beams=args.num_beams)
                line = f'{img}: {res["text"]}'
                if res['outputs']:  # the LLM routed: its decoders' results come back too
                    line += '  [' + _write_routed(res, name, args.out_dir) + ']'
                print(line)
            _each_file(images, skipped, ask)
            return _finish(len(images) - len(skipped), skipped, args.strict)
        out = inf(args.inputs, texts=args.texts, free=args.free, batch_size=args.batch_size,
                  pred_score_thr=args.pred_score_thr, out_dir=args.out_dir, progress=True, skip_errors=True)
        n = sum(len(p['label_names']) for p in out['predictions'])
        print(f'{n} objects above {args.pred_score_thr}; pictures in {osp.join(args.out_dir, "vis")}, '
              f'JSON in {osp.join(args.out_dir, "preds")}')
        _finish(len(out['predictions']), out['skipped'], args.strict)


if __name__ == '__main__':
    main()
