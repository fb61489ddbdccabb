"""Benchmarks that print numbers (ratios measured in one run).

  step     CONFIG [--device cuda --bf16]  train-step time split: MLLM (+LM loss), super-link, decoders,
                                       total; FLOPs per step, achieved TFLOP/s and model FLOPs utilisation
  latency  CONFIG [--weights CKPT]     prompted vs free detection latency; batch 8 vs batch 1 throughput
  compare  CFG_A CKPT_A CFG_B CKPT_B   evaluate two checkpoints on their configs' test split; every AP / mIoU
                                       (all, seen and unseen names) of A and B and the ratio A/B
  ablate   [CONFIG] [--iters N]        train + test (test split) the detection generalist with class embeddings
                                       from the query-slot states only (group / causal slot attention), the name
                                       term only, and both: box mAP side by side
  memory   CONFIG [--weights CKPT]     detection inference on 1000 px and 6000 px images (one fresh process
                                       each): peak resident memory, its ratio, and latency per image
  params   CONFIG                      build on the meta device: parameters per part, memory estimates
  sample   CONFIG [--weights CKPT]     generation / editing sampling time per image (batch 1 and 8)
  data     CONFIG SHARDED_CONFIG SHARDS  training-data loading, map-style vs streamed from shards: samples/s,
                                       resident memory (main + workers) at the start, end and peak of a pass
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


# dense bf16 peak TFLOP/s by device-name substring (vendor data sheets); --peak-tflops overrides
PEAK_BF16_TFLOPS = {'H200': 989.0, 'H100': 989.0, 'A100': 312.0, 'L40S': 362.0, 'A10': 125.0}


def _offline_tokenizer(cfg):
    """Random-init full-size configs without a local checkpoint: the offline BPE (vocab from the config)."""
    import tempfile
    tok = cfg.model.get('mllm', {}).get('tokenizer') or {}
    if 'mllm' in cfg.model and not osp.isdir(tok.get('path') or ''):
        cfg.model.mllm.tokenizer = dict(path=osp.join(tempfile.gettempdir(), 'visionllm-bpe'), train_if_missing=True)
        cfg.model.mllm.pop('pretrained', None)


def _model(config, weights=None, cfg_options=None, cut=False):
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from visionllm.apis.cut_depth import cut_depth
    from visionllm.apis.runner_utils import load_config
    from visionllm.registry import MODELS
    cfg = load_config(config, cfg_options)  # tile size synced there; cut_depth keeps tiles
    if cut:
        cut_depth(cfg)
    if not weights:
        _offline_tokenizer(cfg)
    init_default_scope('visionllm')
    model = MODELS.build(cfg.model)
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter's initialiser
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if weights:
        load_checkpoint(model, weights, map_location='cpu', logger='silent')
    return cfg, model


def _batches(cfg, n, loader_key='train_dataloader', batch_size=None):
    from mmengine.runner import Runner
    lc = cfg[loader_key].copy()
    lc.update(num_workers=0, persistent_workers=False)
    if batch_size:
        lc.batch_size = batch_size
    it = iter(Runner.build_dataloader(lc))
    return [next(it) for _ in range(n)]


def bench_step(args):
    import contextlib

    import torch
    from torch.utils.flop_counter import FlopCounterMode
    device = torch.device(args.device)
    cfg, model = _model(args.config, cfg_options=_options(args.cfg_options), cut=args.cut_depth)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-4, fused=True)  # as configs/_base_/schedules
    parts = dict(mllm=0.0, superlink=0.0, decoders=0.0, total=0.0)
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if args.bf16 else contextlib.nullcontext()
    batches = _batches(cfg, args.iters + 2)
    with amp:
        for i, b in enumerate(batches):
            data = model.data_preprocessor(b, True)
            times = _step_parts(model, opt, data['inputs'], data['data_samples'])
            if i >= 2:  # warm-up
                for k in parts:
                    parts[k] += times[k] / args.iters
        counter = FlopCounterMode(display=False)  # matmul / conv FLOPs of one forward + backward
        data = model.data_preprocessor(batches[-1], True)
        with counter:
            _full_step(model, opt, data['inputs'], data['data_samples'])
    where = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'{torch.get_num_threads()} threads'
    print(f'train step ({args.config}, batch {cfg.train_dataloader.batch_size}, {args.iters} iters, {where}, '
          f'{"bf16 autocast" if args.bf16 else "fp32"}):')
    for k, v in parts.items():
        share = f'  ({v / parts["total"] * 100:4.1f} %)' if k != 'total' else ''
        print(f'  {k:10s} {v * 1000:8.1f} ms{share}')
    flops = counter.get_total_flops()
    achieved = flops / parts['total'] / 1e12
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in where), None)
    mfu = f'{achieved / peak * 100:.1f} % of {peak:g} TFLOP/s' if peak else 'n/a (give --peak-tflops)'
    print(f'  FLOPs/step {flops / 1e9:.1f} GFLOP   achieved {achieved:.3f} TFLOP/s   MFU {mfu}')
    kind = 'allocated on the GPU' if device.type == 'cuda' else 'resident'
    print(f'  peak memory {_peak_gib(device):.2f} GiB ({kind})')


def _options(pairs) -> dict:
    """``key=value`` strings (values parsed as Python literals where they are) -> dict."""
    import ast
    out = {}
    for pair in pairs or []:
        key, _, value = pair.partition('=')
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _peak_gib(device) -> float:
    import resource

    import torch
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _clock() -> float:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def _step_parts(model, opt, inputs, samples) -> dict:
    """Seconds of: the full training step; and on the same batch the MLLM forward+backward (LM side),
    the super-link insert+gather, the decoders' forward+backward on detached conditions."""
    import torch
    out = {}
    t0 = _clock()
    _full_step(model, opt, inputs, samples)
    out['total'] = _clock() - t0
    ids, _, pad_mask = model.sequences(samples, inputs['num_tiles'])
    t0 = _clock()
    embeds = model.embed(ids, inputs['pixel_values'], model.region_features(inputs, samples))
    hidden = model.llm_hidden_states(embeds, ids, pad_mask)  # length buckets, as in training
    model.mllm.model.lm_head(hidden[pad_mask.bool()]).float().mean().backward()
    out['mllm'] = _clock() - t0
    t0 = _clock()
    with torch.no_grad():
        model.superlink.gather(hidden, ids, model.superlink.insert(model.mllm.embed_tokens(ids), ids))
    out['superlink'] = _clock() - t0
    conds = model.superlink.gather(hidden.detach(), ids, embeds.detach())
    t0 = _clock()
    for fam, dec in model.decoders.items():
        if fam in conds:
            losses = dec.loss(*model._subset(inputs, conds[fam], samples))
            sum(v for k, v in losses.items() if 'loss' in k).backward()
    out['decoders'] = _clock() - t0
    opt.zero_grad()
    return out


def _full_step(model, opt, inputs, samples):
    losses = model(inputs, samples, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    opt.step()
    opt.zero_grad()


def bench_latency(args):
    import torch

    from visionllm.datasets import prompts
    from visionllm.datasets.synthetic import all_categories
    device = torch.device(args.device)
    cfg, model = _model(args.config, args.weights, _options(args.cfg_options), cut=args.cut_depth)
    model.to(device).eval()
    names = all_categories()[:args.num_classes]
    images = _batches(cfg, 1, 'test_dataloader', batch_size=8)[0]

    def run(free: bool, bs: int):
        n = len(images['data_samples'])
        t0 = _clock()
        for s in range(0, n, bs):
            batch = dict(inputs={k: v[s:s + bs] for k, v in images['inputs'].items()},
                         data_samples=[d.clone() for d in images['data_samples'][s:s + bs]])
            for d in batch['data_samples']:
                conv = prompts.det_conversation(names)
                d.set_metainfo(dict(messages=conv[:1] if free else conv, class_names=names, task='det'))
            with torch.no_grad():
                model.test_step(batch)
        return (_clock() - t0) / n

    run(False, 8)  # warm-up
    p1, p8, f1, f8 = run(False, 1), run(False, 8), run(True, 1), run(True, 8)
    print(f'detection latency per image ({len(names)} classes, {torch.get_num_threads()} threads):')
    print(f'  prompted  batch 1 {p1 * 1000:7.1f} ms   batch 8 {p8 * 1000:7.1f} ms   throughput x{p1 / p8:.2f}')
    print(f'  free      batch 1 {f1 * 1000:7.1f} ms   batch 8 {f8 * 1000:7.1f} ms   throughput x{f1 / f8:.2f}')
    print(f'  free / prompted latency (batch 1): x{f1 / p1:.2f}')
    print(f'  peak memory {_peak_gib(device):.2f} GiB')


# headline keys of the task metrics: box / mask mAP, mIoU and keypoint AP, each on all / seen / unseen names
HEADLINE_KEYS = ('bbox_mAP', 'bbox_seen_mAP', 'bbox_unseen_mAP', 'segm_mAP', 'segm_seen_mAP', 'segm_unseen_mAP',
                 'mIoU', 'mIoU_seen', 'mIoU_unseen', 'coco/AP', 'coco/AP .5')


def _headline(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k.split('/', 1)[-1] in HEADLINE_KEYS or k.endswith(HEADLINE_KEYS)}


def bench_compare(args):
    from mmengine.runner import Runner

    from visionllm.apis.runner_utils import build_runner_cfg
    res = []
    for config, ckpt, tag in ((args.config_a, args.ckpt_a, 'a'), (args.config_b, args.ckpt_b, 'b')):
        cfg = build_runner_cfg(config, {}, work_dir=f'work_dirs/benchmark_compare/{tag}', load_from=ckpt)
        res.append(Runner.from_cfg(cfg).test())
    a_keys = _headline(res[0])
    print(f'test split: A = {args.config_a}, B = {args.config_b}')
    print(f'{"metric":28s} {"A":>7s} {"B":>7s} {"A/B":>6s}')
    for k in sorted(k for k in a_keys if k in res[1]):
        a, b = float(res[0][k]), float(res[1][k])
        print(f'{k:28s} {a:7.3f} {b:7.3f} {a / b if b > 0 else float("nan"):6.3f}')


# class-embedding ablation of the detection decoder: (label, --cfg-options)
ABLATIONS = (
    ('slot states only, group slot attention', ['model.decoders.det.name_embedding=False',
                                                'model.superlink.slot_attention=group']),
    ('slot states only, causal slot attention', ['model.decoders.det.name_embedding=False',
                                                 'model.superlink.slot_attention=causal']),
    ('name term only (no LLM states)', ['model.decoders.det.slot_states=False']),
    ('slot states + name term (config)', []),
)


def _run(cmd) -> None:
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def train_and_test(config: str, work_dir: str, options, iters=None) -> dict:
    """tools/train.py then tools/test.py (the config's test split) in subprocesses; returns the metrics."""
    tools = osp.dirname(osp.abspath(__file__))
    opts = list(options)
    if iters:
        opts += [f'train_cfg.max_iters={iters}', f'param_scheduler.1.end={iters}']
    opts += ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']  # no checkpoint selection: last one
    _run([sys.executable, osp.join(tools, 'train.py'), config, '--work-dir', work_dir, '--cfg-options', *opts])
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    out = osp.join(work_dir, 'test_metrics.json')
    _run([sys.executable, osp.join(tools, 'test.py'), config, ckpt, '--work-dir', work_dir, '--json-out', out,
          *(['--cfg-options', *options] if options else [])])
    with open(out) as f:
        return json.load(f)


def bench_ablate(args):
    rows = []
    for k, (label, options) in enumerate(ABLATIONS):
        if args.only and k not in args.only:
            continue
        work = osp.join(args.work_dir, f'variant{k}')
        rows.append((label, train_and_test(args.config, work, options + list(args.cfg_options), args.iters)))
    keys = ('det/bbox_mAP', 'det/bbox_seen_mAP', 'det/bbox_unseen_mAP', 'det/segm_mAP', 'det_free/bbox_mAP')
    print(f'class-embedding ablation, test split ({args.config}, '
          f'{args.iters or "config"} iterations, {args.work_dir}):')
    print(f'  {"class embeddings from":42s}' + ''.join(f'{k:>20s}' for k in keys))
    for label, m in rows:
        print(f'  {label:42s}' + ''.join(f'{m[k]:20.3f}' if k in m else f'{"-":>20s}' for k in keys))


def _scene_image(size: int):
    """An embedded-data scene (128 px) upscaled to ``size`` x ``size``: realistic content at any size."""
    import cv2
    import numpy as np

    from visionllm.datasets.synthetic import all_categories
    from visionllm.datasets.synthetic.scene import render_scene
    img, _, _ = render_scene(np.random.default_rng(0), 128, all_categories())
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)


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
        t0 = _clock()
        for img, reg in items:
            fn(img, reg)
        times[name] = (_clock() - t0) / len(items)
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
            write_rgb(path, _scene_image(size))
            cmd = [sys.executable, osp.abspath(__file__), 'infer-once', args.config, path, '--texts', args.texts,
                   '--out-dir', os.path.join(tmp, f'out_{size}')]
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


def bench_params(args):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from visionllm.registry import MODELS
    cfg = Config.fromfile(args.config)
    _offline_tokenizer(cfg)
    init_default_scope('visionllm')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    parts = {'mllm.vision': model.mllm.model.model.vision_tower,
             'mllm.projector': model.mllm.model.model.multi_modal_projector,
             'mllm.llm': model.mllm.model.model.language_model, 'superlink': model.superlink}
    parts.update({f'decoder.{k}': v for k, v in model.decoders.items()})
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f'{args.config}')
    for k, m in parts.items():
        print(f'  {k:18s} {sum(p.numel() for p in m.parameters()) / 1e6:10.1f} M')
    print(f'  {"total":18s} {total / 1e6:10.1f} M  (trainable {trainable / 1e6:.1f} M)')
    gib = 1024 ** 3
    train_state = (trainable * 16 + (total - trainable) * 2) / gib
    print(f'  memory: bf16 weights {total * 2 / gib:.2f} GiB; AdamW mixed-precision training state '
          f'(bf16 weights + grads, fp32 master + 2 moments = 16 B/param) {train_state:.2f} GiB '
          f'before activations; ZeRO-3 over 8 ranks: {trainable * 16 / 8 / gib:.2f} GiB/rank')


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


def _rss_gib(proc) -> float:
    """Resident memory of a process and its children (dataloader workers), GiB."""
    total = proc.memory_info().rss
    for c in proc.children(recursive=True):
        try:
            total += c.memory_info().rss
        except Exception:  # a worker that just exited
            pass
    return total / 2 ** 30


def _loader_pass(loader_cfg, batches: int) -> dict:
    """samples/s over ``batches`` batches (after one warm-up batch) and memory at 10 points of the pass."""
    import psutil
    from mmengine.runner import Runner
    proc = psutil.Process()
    it = iter(Runner.build_dataloader(loader_cfg))
    next(it)
    mem, n, t0 = [], 0, time.perf_counter()
    for b in range(batches):
        batch = next(it)
        n += len(batch['data_samples'])
        if b % max(1, batches // 10) == 0:
            mem.append(_rss_gib(proc))
    dt = time.perf_counter() - t0
    return dict(samples_per_s=n / dt, mem_first=mem[0], mem_last=mem[-1], mem_peak=max(mem))


def bench_data(args):
    """Streaming (shards) vs map-style loading of a config's training data: throughput and memory."""
    import os

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    map_cfg, stream_cfg = Config.fromfile(args.config), Config.fromfile(args.sharded_config)
    init_default_scope('visionllm')
    for ds in stream_cfg.train_dataloader.dataset.datasets:
        ds.shards = osp.join(args.shards, osp.basename(ds.shards))
    rows = {}
    for name, cfg in (('map-style', map_cfg), ('streaming', stream_cfg)):
        lc = cfg.train_dataloader.copy()
        lc.update(num_workers=args.workers, persistent_workers=args.workers > 0)
        rows[name] = _loader_pass(lc, args.batches)
    size = sum(os.path.getsize(osp.join(r, f)) for r, _, fs in os.walk(args.shards) for f in fs)
    print(f'{args.batches} batches of {map_cfg.train_dataloader.batch_size}, {args.workers} workers; '
          f'shards {size / 2 ** 30:.2f} GiB')
    print(f'{"":10s} {"samples/s":>10s} {"RSS first":>10s} {"RSS last":>9s} {"RSS peak":>9s} (GiB, main + workers)')
    for name, r in rows.items():
        print(f'{name:10s} {r["samples_per_s"]:10.1f} {r["mem_first"]:10.2f} {r["mem_last"]:9.2f} {r["mem_peak"]:9.2f}')
    ratio = rows['streaming']['samples_per_s'] / rows['map-style']['samples_per_s']
    print(f'streaming / map-style throughput: x{ratio:.2f}')
    if args.resume_items:
        _bench_stream_resume(stream_cfg.train_dataloader.dataset, args.resume_items)


def _bench_stream_resume(dataset_cfg, items: int) -> None:
    """Seconds to the first sample after ``items`` of one reader: from a saved stream position (items read,
    not prepared) vs advancing the restarted stream (every item prepared, mmengine's fallback)."""
    from visionllm.registry import DATASETS
    times = {}
    for name in ('saved position', 'advance'):
        stream = DATASETS.build(dataset_cfg)
        t0 = time.perf_counter()
        if name == 'saved position':
            stream.load_stream_state({0: dict(worker=0, epoch=0, items=items)}, num_workers=1)
            first = next(iter(stream))
        else:
            it = iter(stream)
            for _ in range(items):
                next(it)
            first = next(it)
        times[name] = time.perf_counter() - t0
        assert first['stream_pos']['items'] == items + 1
    print(f'resume after {items} items of one reader: saved position {times["saved position"]:.1f} s, '
          f'advance {times["advance"]:.1f} s (x{times["advance"] / times["saved position"]:.1f})')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('step')
    s.add_argument('config')
    s.add_argument('--iters', type=int, default=5)
    s.add_argument('--device', default='cpu', help='cpu or cuda')
    s.add_argument('--bf16', action='store_true', help='bf16 autocast (mixed precision)')
    s.add_argument('--peak-tflops', type=float, help='device peak for MFU (default: known GPUs by name)')
    s = sub.add_parser('latency')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--num-classes', type=int, default=30)
    s.add_argument('--device', default='cpu', help='cpu or cuda')
    for name in ('step', 'latency'):
        s = sub.choices[name]
        s.add_argument('--cut-depth', action='store_true',
                       help='one layer per stack (visionllm.apis.cut_depth): full-size widths on a CPU')
        s.add_argument('--cfg-options', nargs='+', default=[], help='key=value config overrides')
    s = sub.add_parser('compare')
    for a in ('config_a', 'ckpt_a', 'config_b', 'ckpt_b'):
        s.add_argument(a)
    s = sub.add_parser('ablate')
    s.add_argument('config', nargs='?', default='configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py')
    s.add_argument('--iters', type=int, help='training iterations (default: the config schedule)')
    s.add_argument('--work-dir', default='work_dirs/benchmark_ablate')
    s.add_argument('--only', type=int, nargs='+', help='run only these variants (0-based)')
    s.add_argument('--cfg-options', nargs='+', default=[], help='extra key=value options for every variant')
    s = sub.add_parser('regions', help='latency of the visual-prompt tasks next to detection')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--data-root', default='data/synthetic')
    s.add_argument('--images', type=int, default=20)
    s = sub.add_parser('memory')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--sizes', type=int, nargs='+', default=[1000, 6000])
    s.add_argument('--texts', default='red circle . blue square . green star . yellow cross')
    s = sub.add_parser('infer-once')
    for a in ('config', 'image'):
        s.add_argument(a)
    s.add_argument('--weights')
    s.add_argument('--texts', default='red circle')
    s.add_argument('--out-dir')
    s = sub.add_parser('params')
    s.add_argument('config')
    s = sub.add_parser('data')
    s.add_argument('config', help='map-style config')
    s.add_argument('sharded_config', help='its streaming variant')
    s.add_argument('shards', help='the folder tools/convert_to_shards.py wrote')
    s.add_argument('--batches', type=int, default=300)
    s.add_argument('--workers', type=int, default=2)
    s.add_argument('--resume-items', type=int, default=4000,
                   help='also time resuming a stream after this many items (0: skip)')
    s = sub.add_parser('sample')
    s.add_argument('config')
    s.add_argument('--weights')
    s.add_argument('--steps', type=int, help='sampling steps (default: the decoder test_cfg)')
    args = p.parse_args()
    dict(step=bench_step, latency=bench_latency, compare=bench_compare, params=bench_params,
         sample=bench_sample, ablate=bench_ablate, memory=bench_memory, data=bench_data, regions=bench_regions,
         **{'infer-once': bench_infer_once})[args.cmd](args)


if __name__ == '__main__':
    main()
