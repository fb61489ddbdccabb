"""Inference benchmarks: detection latency (prompted / free, batch 1 / 8), visual-prompt tasks, memory on large
images (one fresh process each), generation / editing sampling time."""
import os.path as osp
import subprocess
import sys
import time

from .common import batches_of, build_model, clock, parse_options, peak_gib, scene_image

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))



def bench_latency(args):
    import torch

    from visionllm.datasets import prompts
    from visionllm.datasets.synthetic import all_categories
    device = torch.device(args.device)
    cfg, model = build_model(args.config, args.weights, parse_options(args.cfg_options), cut=args.cut_depth)
    model.to(device).eval()
    names = all_categories()[:args.num_classes]
    images = batches_of(cfg, 1, 'test_dataloader', batch_size=8)[0]

    def run(free: bool, bs: int):
        n = len(images['data_samples'])
        t0 = clock()
        for s in range(0, n, bs):
            batch = dict(inputs={k: v[s:s + bs] for k, v in images['inputs'].items()},
                         data_samples=[d.clone() for d in images['data_samples'][s:s + bs]])
            for d in batch['data_samples']:
                conv = prompts.det_conversation(names)
                d.set_metainfo(dict(messages=conv[:1] if free else conv, class_names=names, task='det'))
            with torch.no_grad():
                model.test_step(batch)
        return (clock() - t0) / n

    run(False, 8)  # warm-up
    p1, p8, f1, f8 = run(False, 1), run(False, 8), run(True, 1), run(True, 8)
    print(f'detection latency per image ({len(names)} classes, {torch.get_num_threads()} threads):')
    print(f'  prompted  batch 1 {p1 * 1000:7.1f} ms   batch 8 {p8 * 1000:7.1f} ms   throughput x{p1 / p8:.2f}')
    print(f'  free      batch 1 {f1 * 1000:7.1f} ms   batch 8 {f8 * 1000:7.1f} ms   throughput x{f1 / f8:.2f}')
    print(f'  free / prompted latency (batch 1): x{f1 / p1:.2f}')
    print(f'  peak memory {peak_gib(device):.2f} GiB')


def bench_infer_once(args):
    """(internal) one process: build the inferencer, warm up, run the image; print latency and peak RSS."""
    import resource

    import numpy as np

    from visionllm.apis import VisionLLMInferencer
    inf = VisionLLMInferencer(args.config, args.weights)
    inf(np.zeros((64, 64, 3), np.uint8), texts=args.texts)  # warm-up (kernels, allocator)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    inf(args.image, texts=args.texts, out_dir=args.out_dir)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f'RESULT latency_s={dt:.3f} peak_kib={peak} base_kib={base}')


def bench_regions(args):
    """Per-task inference latency of the visual-prompt entries next to text-prompted detection, on the test
    images of the embedded data (one region per image: its first object's box), one process, one run."""
    import json
    import os.path as osp

    import torch

    from visionllm.apis import VisionLLMInferencer
    from visionllm.datasets.synthetic import all_categories
    inf = VisionLLMInferencer(args.config, args.weights)
    with open(osp.join(args.data_root, 'annotations/instances_test.json')) as f:
        coco = json.load(f)
    first = {}
    for a in coco['annotations']:
        first.setdefault(a['image_id'], a['bbox'])
    files = {im['id']: osp.join(args.data_root, im['file_name']) for im in coco['images']}
    items = [(files[i], [dict(kind='box', box=[x, y, x + w, y + h])]) for i, (x, y, w, h) in list(first.items())]
    items = items[:args.images]
    names = ' . '.join(all_categories())
    entries = dict(detection=lambda img, reg: inf(img, texts=names),
                   **{'region-caption': inf.region_caption, 'interactive-seg': inf.interactive_segment,
                      'detect-by-example': inf.detect_by_example})
    for fn in entries.values():  # warm-up
        fn(*items[0])
    times = {}
    for name, fn in entries.items():
        t0 = clock()
        for img, reg in items:
            fn(img, reg)
        times[name] = (clock() - t0) / len(items)
    print(f'inference latency per image, batch 1, {len(items)} images, {torch.get_num_threads()} threads:')
    for name, t in times.items():
        print(f'  {name:18s} {t * 1000:7.1f} ms   x{t / times["detection"]:.2f} of detection '
              f'({len(all_categories())} names)')


def bench_memory(args):
    import os
    import re
    import tempfile

    from visionllm.datasets.transforms.loading import write_rgb
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = os.path.join(tmp, f'scene_{size}.png')
            write_rgb(path, scene_image(size))
            cmd = [sys.executable, osp.join(TOOLS, 'benchmark.py'), 'infer-once', args.config, path,
                   '--texts', args.texts, '--out-dir', os.path.join(tmp, f'out_{size}')]
            cmd += ['--weights', args.weights] if args.weights else []
            r = subprocess.run(cmd, capture_output=True, text=True)
            m = re.search(r'RESULT latency_s=([\d.]+) peak_kib=(\d+) base_kib=(\d+)', r.stdout)
            if r.returncode or not m:
                raise SystemExit(f'inference on {size} px failed:\n{r.stderr[-3000:]}')
            rows.append((size, float(m.group(1)), int(m.group(2)) / 2 ** 20, int(m.group(3)) / 2 ** 20))
    print(f'detection inference, one image per fresh process ({args.config}; images larger than the '
          f'inferencer\'s max_image_size are downscaled for the model, results mapped back):')
    for size, lat, peak, base in rows:
        print(f'  {size:5d} x {size:<5d}  latency {lat * 1000:8.1f} ms   peak RSS {peak:6.2f} GiB '
              f'(after model build and warm-up: {base:5.2f} GiB)')
    print(f'  peak RSS ratio {rows[-1][0]} px / {rows[0][0]} px: x{rows[-1][2] / rows[0][2]:.2f}   '
          f'latency ratio x{rows[-1][1] / rows[0][1]:.2f}')


def bench_sample(args):
    import numpy as np
    import torch

    from visionllm.apis import VisionLLMInferencer
    inf = VisionLLMInferencer(args.config, args.weights)
    prompts_ = ['a red circle above a blue square', 'a green star left of an orange cross'] * 4
    steps = dict(num_inference_steps=args.steps) if args.steps else {}
    image = np.full((64, 64, 3), 128, np.uint8)
    inf.generate(prompts_[:1], **steps)  # warm-up

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    g1 = timed(lambda: [inf.generate(p, batch_size=1, **steps) for p in prompts_[:4]]) / 4
    g8 = timed(lambda: inf.generate(prompts_, batch_size=8, **steps)) / 8
    e1 = timed(lambda: [inf.edit(image, 'make the circle green', **steps) for _ in range(4)]) / 4
    n = args.steps or inf.model.decoders['gen'].test_cfg['num_inference_steps']
    print(f'sampling time per image ({n} steps, {torch.get_num_threads()} threads):')
    print(f'  generate  batch 1 {g1 * 1000:7.1f} ms   batch 8 {g8 * 1000:7.1f} ms   throughput x{g1 / g8:.2f}')
    print(f'  edit      batch 1 {e1 * 1000:7.1f} ms')
