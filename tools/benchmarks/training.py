"""Training benchmarks: the train step split into its parts, two checkpoints compared on the test split, the
class-embedding ablation (train + test per variant)."""
import json
import os.path as osp
import subprocess
import sys

from .common import PEAK_BF16_TFLOPS, batches_of, build_model, clock, parse_options, peak_gib

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))



def bench_step(args):
    import contextlib

    import torch
    from torch.utils.flop_counter import FlopCounterMode
    device = torch.device(args.device)
    cfg, model = build_model(args.config, cfg_options=parse_options(args.cfg_options), cut=args.cut_depth)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-4, fused=True)  # as configs/_base_/schedules
    parts = dict(mllm=0.0, superlink=0.0, decoders=0.0, total=0.0)
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if args.bf16 else contextlib.nullcontext()
    batches = batches_of(cfg, args.iters + 2)
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
    print(f'  peak memory {peak_gib(device):.2f} GiB ({kind})')


def _step_parts(model, opt, inputs, samples) -> dict:
    """Seconds of: the full training step; and on the same batch the MLLM forward+backward (LM side),
    the super-link insert+gather, the decoders' forward+backward on detached conditions."""
    import torch
    out = {}
    t0 = clock()
    _full_step(model, opt, inputs, samples)
    out['total'] = clock() - t0
    ids, _, pad_mask = model.sequences(samples, inputs['num_tiles'])
    t0 = clock()
    embeds = model.embed(ids, inputs['pixel_values'], model.region_features(inputs, samples))
    hidden = model.llm_hidden_states(embeds, ids, pad_mask)  # length buckets, as in training
    model.mllm.model.lm_head(hidden[pad_mask.bool()]).float().mean().backward()
    out['mllm'] = clock() - t0
    t0 = clock()
    with torch.no_grad():
        model.superlink.gather(hidden, ids, model.superlink.insert(model.mllm.embed_tokens(ids), ids))
    out['superlink'] = clock() - t0
    conds = model.superlink.gather(hidden.detach(), ids, embeds.detach())
    t0 = clock()
    for fam, dec in model.decoders.items():
        if fam in conds:
            losses = dec.loss(*model._subset(inputs, conds[fam], samples))
            sum(v for k, v in losses.items() if 'loss' in k).backward()
    out['decoders'] = clock() - t0
    opt.zero_grad()
    return out


def _full_step(model, opt, inputs, samples):
    losses = model(inputs, samples, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    opt.step()
    opt.zero_grad()


# headline keys of the task metrics: box / mask mAP and mIoU on all / seen / unseen names, keypoint AP / AP50 / AR,
# answer accuracies (VQA overall and per question type, region recognition) and caption object F1
HEADLINE_KEYS = ('bbox_mAP', 'bbox_seen_mAP', 'bbox_unseen_mAP', 'segm_mAP', 'segm_seen_mAP', 'segm_unseen_mAP',
                 'mIoU', 'mIoU_seen', 'mIoU_unseen', 'coco/AP', 'coco/AP .5', 'pose/AP', 'pose/AP .5', 'pose/AR',
                 'accuracy', 'object_f1')


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
    tools = TOOLS
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
