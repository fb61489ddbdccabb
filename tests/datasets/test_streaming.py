"""Shards written by tools/convert_to_shards.py, streamed: the same packed samples as the map-style data,
every sample once per pass over 2 DDP ranks x 2 workers, weighted mixtures, bad shards skipped, and the
Runner training from a streaming config."""
import json
import os
import os.path as osp
import random
import shutil

import numpy as np
import pytest
import torch

from tests.conftest import free_port, tiny_config
from tests.tools.test_cli import run

MAIN = 'configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py'
SHARDED = 'configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic-shards.py'


@pytest.fixture(scope='module')
def main_cfg(synth_root, tokenizer_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('shards_cfg')
    cfg = tiny_config(MAIN, synth_root, tokenizer_dir, str(tmp))
    path = str(tmp / 'main.py')
    cfg.dump(path)
    return cfg, path


@pytest.fixture(scope='module')
def shards(main_cfg, tmp_path_factory):
    """The tiny main job's train split as shards of 4 samples, through the CLI."""
    root = str(tmp_path_factory.mktemp('shards') / 'det-text')
    r = run(['tools/convert_to_shards.py', main_cfg[1], root, '--shard-size', '4'])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    with open(osp.join(root, 'manifest.json')) as f:
        return root, json.load(f)


def _sources(cfg):
    from tools.convert_to_shards import sources
    return sources(cfg.train_dataloader.dataset)[0]


def _build(cfg_dict):
    from mmengine.registry import init_default_scope
    init_default_scope('visionllm')
    import visionllm.datasets  # noqa: F401
    from visionllm.registry import DATASETS
    return DATASETS.build(cfg_dict)


def _seeded(fn, seed):
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
    return fn()


def test_streams_give_the_map_style_samples(main_cfg, shards):
    from visionllm.datasets.shards import iter_shards, shard_list
    root, manifest = shards
    leaves = _sources(main_cfg[0])
    assert [s['type'] for s in manifest['sources']] == [leaf['type'] for leaf in leaves]
    assert manifest['weights'] == list(main_cfg[0].train_dataloader.dataset.weights)
    for src, leaf in zip(manifest['sources'], leaves):
        ds = _build(leaf)
        ds.full_init()
        assert src['samples'] == len(ds) and len(src['shards']) == -(-len(ds) // 4)
        stream = _build(dict(type='StreamingDataset', shards=osp.join(root, src['name']), dataset=leaf,
                             shuffle=False))
        raw = iter_shards(shard_list(osp.join(root, src['name'])), on_error=pytest.fail)
        for i in range(3):  # the same random augmentation draws: identical packed samples
            a = _seeded(lambda: stream._prepare(next(raw)), i)  # noqa: B023 - called at once
            b = _seeded(lambda: ds[i], i)  # noqa: B023
            for k, v in b['inputs'].items():
                assert (torch.equal(v, a['inputs'][k]) if isinstance(v, torch.Tensor) else v == a['inputs'][k]), k
            ma, mb = a['data_samples'].metainfo, b['data_samples'].metainfo
            assert ma['messages'] == mb['messages'] and ma['shard_key'].endswith(f's{leaves.index(leaf)}_{i:09d}')
            for field in ('gt_instances', 'gt_bboxes'):
                if field in b['data_samples']:
                    assert torch.equal(b['data_samples'].get(field).bboxes, a['data_samples'].get(field).bboxes)


def _seven_uneven_shards(main_cfg, out):
    """The detection source's 24 samples in 7 shards of 4, 4, 4, 4, 3, 3, 2."""
    import webdataset as wds

    from visionllm.datasets.shards import encode_sample
    leaf = _sources(main_cfg[0])[0]
    ds = _build(leaf)
    ds.full_init()
    os.makedirs(out, exist_ok=True)
    i = 0
    for k, size in enumerate([4, 4, 4, 4, 3, 3, 2]):
        with wds.TarWriter(osp.join(out, f'shard-{k:06d}.tar')) as sink:
            for _ in range(size):
                sink.write(encode_sample(f'{i:09d}', ds.get_data_info(i)))
                i += 1
    assert i == len(ds)
    return leaf, [f'{j:09d}' for j in range(i)]


def _identity(x):
    return x


def _ddp_reader(rank, world, init_file, shards, leaf, out):
    """One DDP rank: 2 passes of a 2-worker DataLoader over the stream; writes the keys it saw."""
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        stream = _build(dict(type='StreamingDataset', shards=shards, dataset=leaf, shuffle=True, shuffle_buffer=4))
        # workers forked (the default on Linux, as in training): they inherit the process group's rank
        loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2, collate_fn=_identity,
                                             multiprocessing_context='fork')
        passes = [[s['data_samples'].metainfo['shard_key'].rsplit(':', 1)[1] for s in loader] for _ in range(2)]
        with open(out, 'w') as f:
            json.dump(passes, f)
    finally:
        dist.destroy_process_group()


def test_every_sample_once_per_pass_over_ddp_ranks_and_workers(main_cfg, tmp_path):
    import torch.multiprocessing as tmp_mp
    leaf, keys = _seven_uneven_shards(main_cfg, str(tmp_path / 'seven'))
    outs = [str(tmp_path / f'rank{r}.json') for r in range(2)]
    ctx = tmp_mp.get_context('spawn')
    procs = [ctx.Process(target=_ddp_reader, args=(r, 2, str(tmp_path / 'pg'), str(tmp_path / 'seven'), leaf.to_dict(),
                                                  outs[r])) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    seen = [json.load(open(o)) for o in outs]
    orders = []
    for k in range(2):
        got = seen[0][k] + seen[1][k]
        assert sorted(got) == keys, f'pass {k}: duplicates or gaps'
        assert seen[0][k] and seen[1][k]
        orders.append(got)
    assert orders[0] != orders[1]  # each pass reshuffles


def test_mixture_weights_and_task_groups(main_cfg, shards):
    root, manifest = shards
    leaves = _sources(main_cfg[0])
    caption, vqa = manifest['sources'][2], manifest['sources'][3]
    mix = _build(dict(type='StreamingMixture', weights=[0.25, 0.75], group_size=4, seed=3, datasets=[
        dict(type='StreamingDataset', shards=osp.join(root, s['name']), dataset=leaves[k], shuffle_buffer=8)
        for k, s in ((2, caption), (3, vqa))]))
    n, from_vqa, groups = 0, 0, []
    for sample in mix:
        src = sample['data_samples'].metainfo['shard_key'].rsplit(':', 1)[1].split('_')[0]
        groups.append(src)
        from_vqa += src == 's3'
        n += 1
        if n == 2000:
            break
    assert abs(from_vqa / n - 0.75) < 0.04
    # runs of 4 from one source: every batch of 4 holds one task
    assert all(len(set(groups[i:i + 4])) == 1 for i in range(0, n, 4))


def test_bad_shards_are_skipped_counted_and_logged(main_cfg, shards, tmp_path, log_records):
    import webdataset as wds
    root, manifest = shards
    src = manifest['sources'][0]
    bad = tmp_path / 'bad'
    bad.mkdir()
    files = sorted(f for f in os.listdir(osp.join(root, src['name'])) if f.endswith('.tar'))[:3]
    for f in files:
        shutil.copy(osp.join(root, src['name'], f), bad / f)
    data = (bad / files[0]).read_bytes()  # a shard cut in the middle of a member
    (bad / files[0]).write_bytes(data[:len(data) // 2 + 100])
    samples = list(wds.WebDataset(str(bad / files[1]), shardshuffle=False))  # an image member that is not one
    samples[1] = dict(samples[1], **{k: b'not an image' for k in samples[1] if k.endswith('.png')})
    with wds.TarWriter(str(bad / files[1])) as sink:
        for s in samples:
            sink.write({k: v for k, v in s.items() if k != '__url__' and k != '__local_path__'})
    stream = _build(dict(type='StreamingDataset', shards=str(bad), dataset=_sources(main_cfg[0])[0], shuffle=False))
    out = list(stream)
    skipped = [o['skipped'] for o in out if 'skipped' in o]
    good = [o for o in out if 'skipped' not in o]
    assert len(skipped) >= 2 and any('cannot decode' in s['reason'] for s in skipped)
    assert 4 + 3 <= len(good) <= 4 + 3 + 2  # the intact shard, the others minus their bad parts
    assert any('skipped shard data' in r.getMessage() for r in log_records)


def test_runner_trains_from_shards_and_resumes_exactly(synth_root, tokenizer_dir, shards, tmp_path):
    """5 iterations from the sharded config under 2-process DDP x 2 workers; then a run resumed from its
    iteration-3 checkpoint (as after a kill; mid-round: worker 1's batch is due next) continues from the
    stream position saved in it and trains iterations 4-5 on the same samples, in the same order, on each rank."""
    root, _ = shards
    cfg = tiny_config(SHARDED, synth_root, tokenizer_dir, str(tmp_path), iters=5)
    for ds in cfg.train_dataloader.dataset.datasets:
        ds.shards = osp.join(root, osp.basename(ds.shards))
    cfg.train_dataloader.num_workers = 2
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None  # training only: validation reads the
    cfg.default_hooks.checkpoint.interval = 3  # map-style splits, tested elsewhere
    cfg.custom_imports = dict(imports=['tests.datasets.stream_keys_hook'], allow_failed_imports=False)
    port = str(free_port())
    keys = {}
    for name in ('straight', 'resumed'):
        cfg.custom_hooks = [dict(type='StreamStateHook'), dict(type='StreamKeysHook', out=str(tmp_path / name))]
        path = str(tmp_path / f'{name}.py')
        cfg.dump(path)
        extra = ['--resume', str(tmp_path / 'straight' / 'iter_3.pth')] if name == 'resumed' else []
        r = run(['-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port', port, 'tools/train.py', path,
                 '--work-dir', str(tmp_path / name), '--launcher', 'pytorch'] + extra)
        log = r.stdout + r.stderr
        assert r.returncode == 0, log[-3000:]
        assert 'Iter(train) [5/5]' in log and osp.exists(tmp_path / name / 'iter_5.pth'), log[-3000:]
        keys[name] = [[json.loads(ln) for ln in open(tmp_path / f'{name}.rank{k}')] for k in range(2)]
        if name == 'resumed':  # continued from the saved stream position, not by re-reading 2 iterations
            assert 'stream resumes after its saved position' in log, log[-3000:]  # (rank 0 logs)
            assert 'Fast sampler-level resume' not in log, log[-3000:]
    state = torch.load(tmp_path / 'straight' / 'iter_3.pth', weights_only=False)['meta']['stream_state']
    assert state['world_size'] == 2 and state['num_workers'] == 2 and len(state['ranks']) == 2
    assert all(r[0]['items'] == 4 and r[1]['items'] == 2 for r in state['ranks'])  # worker 0: 2 batches of 2
    assert state['next_workers'] == [1, 1]
    for rank in range(2):
        straight = {it: k for it, k in keys['straight'][rank]}
        assert len(straight) == 5 and all(len(k) == 2 and all(k) for k in straight.values())
        assert len({tuple(k) for k in straight.values()}) == 5  # different samples every iteration
        assert [it for it, _ in keys['resumed'][rank]] == [3, 4]  # iterations 4 and 5 only
        assert all(k == straight[it] for it, k in keys['resumed'][rank]), (rank, keys)
    both = [set(k for _, ks in keys['straight'][rank] for k in ks) for rank in range(2)]
    assert not both[0] & both[1]  # the ranks read different shards


def test_parquet_shards_through_hf_datasets(main_cfg, tmp_path):
    """The same samples from Parquet files streamed by Hugging Face datasets; 2 dataloader workers read
    every sample once per pass, reshuffled each pass."""
    from visionllm.datasets.shards import write_parquet_shards
    leaf = _sources(main_cfg[0])[0]
    ds = _build(leaf)
    out = write_parquet_shards(ds, str(tmp_path / 'pq'), shard_size=5, key_prefix='s0_')
    assert out['samples'] == len(ds) == 24 and len(out['shards']) == 5
    ordered = _build(dict(type='HFStreamingDataset', shards=str(tmp_path / 'pq'), dataset=leaf, shuffle=False))
    assert len(ordered) == 24
    it = ordered.iterate(0)
    got = _seeded(lambda: [next(it) for _ in range(3)], 0)  # the same random draws as map-style ds[0..2]
    ref = _seeded(lambda: [ds[i] for i in range(3)], 0)
    for i, (a, b) in enumerate(zip(got, ref)):
        assert a['data_samples'].metainfo['shard_key'].endswith(f's0_{i:09d}')
        assert a['data_samples'].metainfo['messages'] == b['data_samples'].metainfo['messages']
        for k, v in b['inputs'].items():
            assert torch.equal(v, a['inputs'][k]) if isinstance(v, torch.Tensor) else v == a['inputs'][k], k
    stream = _build(dict(type='HFStreamingDataset', shards=str(tmp_path / 'pq'), dataset=leaf, shuffle_buffer=6))
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2, collate_fn=_identity,
                                         multiprocessing_context='fork')
    passes = [[s['data_samples'].metainfo['shard_key'].rsplit('_', 1)[1] for s in loader] for _ in range(2)]
    for keys in passes:
        assert sorted(keys) == [f'{i:09d}' for i in range(24)]
    assert passes[0] != passes[1]


def _key(sample):
    return sample['data_samples'].metainfo['shard_key'].rsplit(':', 1)[1]


def test_stream_continues_after_a_saved_position(main_cfg, shards, tmp_path):
    """A stream given a saved position yields exactly what followed it, without preparing what came before:
    a single stream in the middle of a pass (the next pass follows), and a mixture's reader."""
    leaf, keys = _seven_uneven_shards(main_cfg, str(tmp_path / 'seven'))
    spec = dict(type='StreamingDataset', shards=str(tmp_path / 'seven'), dataset=leaf, shuffle_buffer=4, seed=5)
    straight = _build(spec)
    passes = [[_key(s) for s in straight] for _ in range(2)]
    assert sorted(passes[0]) == keys and passes[0] != passes[1]
    resumed = _build(spec)
    prepared = []
    pipeline = resumed.source.pipeline
    resumed.source.pipeline = lambda info: prepared.append(info) or pipeline(info)
    resumed.load_stream_state({0: dict(worker=0, epoch=0, items=10)}, num_workers=1)
    first = [s for s in resumed]
    assert [_key(s) for s in first] == passes[0][10:] and len(prepared) == 14
    assert first[0]['stream_pos'] == dict(worker=0, epoch=0, items=11)
    assert [_key(s) for s in resumed] == passes[1]  # the following pass is the straight run's second

    root, manifest = shards
    leaves = _sources(main_cfg[0])
    mix_spec = dict(type='StreamingMixture', weights=[0.5, 0.5], group_size=4, seed=3, datasets=[
        dict(type='StreamingDataset', shards=osp.join(root, manifest['sources'][k]['name']), dataset=leaves[k],
             shuffle_buffer=8) for k in (2, 3)])
    it = iter(_build(mix_spec))
    ref = [_key(next(it)) for _ in range(60)]  # past both sources' first pass (24 samples each)
    mix = _build(mix_spec)
    mix.load_stream_state({0: dict(worker=0, items=37)}, num_workers=1)
    it = iter(mix)
    assert [_key(next(it)) for _ in range(23)] == ref[37:]


def test_an_image_of_several_samples_is_stored_once_per_shard(main_cfg, shards):
    """The VQA source (several questions per image): fewer image members than samples in its shards, and
    every streamed sample still gets the bytes of its own image file."""
    import tarfile

    from visionllm.datasets.shards import _MEMORY, decode_sample, iter_shards, release, shard_list
    root, manifest = shards
    src = manifest['sources'][3]
    urls = shard_list(osp.join(root, src['name']))
    members = [m.name for u in urls for m in tarfile.open(u).getmembers()]
    images = [m for m in members if m.endswith('.img_path.png')]
    assert len([m for m in members if m.endswith('.json')]) == src['samples'] > len(images)
    ds = _build(_sources(main_cfg[0])[3])
    ds.full_init()
    n = 0
    for i, sample in enumerate(iter_shards(urls, on_error=pytest.fail)):
        info = decode_sample(sample)
        assert _MEMORY[info['img_path']] == open(ds.get_data_info(i)['img_path'], 'rb').read()
        release(info)
        n += 1
    assert n == src['samples']


def test_conversion_options_reach_the_datasets_and_a_second_conversion_replaces_the_first(
        main_cfg, synth_root, tmp_path, monkeypatch):
    """--cfg-options data_root / image_size reach the datasets built from them (as in tools/train.py), parsed;
    converting again into the same folder leaves only the new shards."""
    import sys

    from tools.convert_to_shards import main
    other = str(tmp_path / 'copy') + '/'
    shutil.copytree(synth_root, other)
    out = tmp_path / 'shards'

    def convert(*extra):
        monkeypatch.setattr(sys, 'argv', ['convert_to_shards.py', main_cfg[1], str(out), *extra])
        main()
        with open(out / 'manifest.json') as f:
            return json.load(f)

    manifest = convert('--shard-size', '4', '--cfg-options', f'data_root={other}', 'image_size=96')
    for src in manifest['sources']:
        assert src['dataset']['data_root'] == other, src['dataset']
        sizes = [t['scale'] for t in src['dataset']['pipeline'] if t['type'] == 'mmdet.Resize']
        assert sizes and all(s == [96, 96] or s == (96, 96) for s in sizes), sizes
    first = {s['name']: s['shards'] for s in manifest['sources']}
    assert any(len(v) > 1 for v in first.values())
    manifest = convert('--shard-size', '1000')
    for src in manifest['sources']:
        on_disk = sorted(f for f in os.listdir(out / src['name']) if f.endswith('.tar'))
        assert on_disk == src['shards'] == ['shard-000000.tar'], on_disk
        with open(out / src['name'] / 'index.json') as f:
            assert json.load(f)['samples'] == src['samples']


def test_a_reader_without_a_shard_is_a_clear_error(main_cfg, shards):
    """More readers (ranks x workers) than shards: the reader left without one says so, naming the counts."""
    from visionllm.utils.errors import ConfigError
    root, manifest = shards
    src = manifest['sources'][0]
    leaf = _sources(main_cfg[0])[0]
    stream = _build(dict(type='StreamingDataset', shards=osp.join(root, src['name']), dataset=leaf))
    stream._dist = (len(src['shards']), len(src['shards']) + 1)  # the last rank of one rank more than shards
    with pytest.raises(ConfigError, match=r'shard\(s\) for \d+ rank\(s\) x 1 dataloader worker\(s\)'):
        next(iter(stream))
    stream._dist = (0, 1)  # one rank: its reader streams
    assert 'inputs' in next(iter(stream))


def test_a_sample_missing_a_member_leaves_no_bytes_in_memory():
    """decode_sample of a shard sample whose second file is missing: a bad sample, and the first file's bytes
    are not left registered (a long stream of such samples would grow memory)."""
    from visionllm.datasets import shards
    from visionllm.utils.errors import BadSampleError
    before = dict(shards._MEMORY)
    sample = {'__key__': 's0_000000001', 'a.png': b'png bytes',
              'json': json.dumps({'__files__': {'img_path': {'member': 'a.png'},
                                                'seg_map_path': {'member': 'b.png'}}}).encode()}
    with pytest.raises(BadSampleError, match='s0_000000001: field `member`: b.png missing'):
        shards.decode_sample(sample)
    assert shards._MEMORY == before
    sample['b.png'] = b'more bytes'
    info = shards.decode_sample(sample)
    assert set(shards._MEMORY) - set(before) == {info['img_path'], info['seg_map_path']}
    shards.release(info)
    assert shards._MEMORY == before
