"""Resource benchmarks: parameters and memory estimates on the meta device, data loading (map-style vs shards)."""
import os.path as osp
import time

from .common import offline_tokenizer


def bench_params(args):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from visionllm.registry import MODELS
    cfg = Config.fromfile(args.config)
    offline_tokenizer(cfg)
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
