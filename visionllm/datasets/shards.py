"""Web-scale data: any dataset of the project as webdataset tar shards, and streams over them.

A shard sample holds what the map-style dataset's ``get_data_info(i)`` returns (``<key>.json``) and the
encoded bytes of every file it names (``<key>.<field>.<ext>``, e.g. ``img_path.png``, ``seg_map_path.png``);
a file an earlier sample of the same shard stored (one image, several conversations) is stored once.
Streaming puts those bytes behind an in-memory ``vllmshard://`` file backend of mmengine and runs the source
dataset's own pipeline, so every loader (ours, mmdet's, mmseg's, mmpose's) reads them unchanged and the
packed samples equal the map-style ones.
"""
import json
import os
import os.path as osp
from collections import Counter
from typing import Dict, Iterator, List, Optional

import numpy as np
from mmengine.fileio import register_backend
from mmengine.fileio.backends import BaseStorageBackend

from visionllm.utils.errors import BadSampleError

PREFIX = 'vllmshard'
INDEX = 'index.json'  # per-folder sample counts written with the shards
_MEMORY: Dict[str, bytes] = {}  # this process's files of the samples being prepared


@register_backend(PREFIX, force=True, prefixes=PREFIX)
class ShardMemoryBackend(BaseStorageBackend):
    """mmengine file backend over the bytes of shard members being prepared (``vllmshard://KEY/FIELD.EXT``)."""

    def get(self, filepath) -> bytes:
        try:
            return _MEMORY[str(filepath)]
        except KeyError:
            raise FileNotFoundError(f'{filepath} (not a member of the shard sample being prepared)') from None

    def get_text(self, filepath, encoding: str = 'utf-8') -> str:
        return self.get(filepath).decode(encoding)


class _Encoder(json.JSONEncoder):
    """numpy values -> JSON, arrays tagged so that :func:`_decode` restores their dtype and shape."""

    def default(self, o):
        if isinstance(o, np.ndarray):
            return {'__ndarray__': o.tolist(), 'dtype': str(o.dtype), 'shape': list(o.shape)}
        if isinstance(o, np.generic):
            return o.item()
        return super().default(o)


def _decode(obj):
    if isinstance(obj, dict):
        if '__ndarray__' in obj:
            return np.asarray(obj['__ndarray__'], dtype=obj['dtype']).reshape(obj['shape'])
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def file_fields(info: dict) -> Dict[str, str]:
    """``{field: path}`` of the data info's fields that name an existing file (``*_path``)."""
    return {k: v for k, v in info.items() if k.endswith('_path') and isinstance(v, str) and v and osp.isfile(v)}


def encode_sample(key: str, info: dict, shard_uses: Optional[Dict[str, int]] = None,
                  stored: Optional[set] = None) -> dict:
    """One data info -> a webdataset sample: ``json`` (the info, file fields by base name) + file bytes.

    ``shard_uses`` (``{path: samples of the shard that use it}``) and ``stored`` (paths already written to
    the shard): a file stored by an earlier sample of the shard (several conversations of one image) is not
    stored again; the first sample records how many samples use it and :func:`share_files` hands the bytes
    on, dropping them after the last use.
    """
    import hashlib
    sample = {'__key__': key}
    files = file_fields(info)
    out = dict(info)
    refs = {}
    for field, path in files.items():
        member = field + (osp.splitext(path)[1].lower() or '.bin')
        ref = {'member': member, 'id': hashlib.sha1(osp.abspath(path).encode()).hexdigest()[:20]}
        if shard_uses is None or path not in stored:
            with open(path, 'rb') as f:
                sample[member] = f.read()
            if shard_uses is not None:
                stored.add(path)
                ref['uses'] = shard_uses[path]
        refs[field] = ref
        out[field] = osp.basename(path)
    out['__files__'] = refs
    sample['json'] = json.dumps(out, cls=_Encoder).encode()
    return sample


def share_files(samples: Iterator[dict]) -> Iterator[dict]:
    """Give each shard sample the file bytes an earlier sample of the same shard stored for it (see
    :func:`encode_sample`); shards in tar order, before any shuffling. Bytes are held until their last use."""
    cache: Dict[str, list] = {}  # id -> [bytes, uses left]
    url = None
    for s in samples:
        if s.get('__url__') != url:
            cache, url = {}, s.get('__url__')
        if 'json' not in s:
            yield s
            continue
        try:
            files = json.loads(s['json']).get('__files__', {})
        except ValueError:
            files = {}  # decode_sample reports it
        for ref in files.values():
            if not isinstance(ref, dict) or 'id' not in ref:
                continue
            if ref['member'] in s:
                if ref.get('uses', 1) > 1:
                    cache[ref['id']] = [s[ref['member']], ref['uses'] - 1]
            elif ref['id'] in cache:
                entry = cache[ref['id']]
                s[ref['member']] = entry[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    del cache[ref['id']]
        yield s


def decode_sample(sample: dict) -> dict:
    """A webdataset sample -> the data info, its file fields pointing at ``vllmshard://`` entries
    (registered in this process's memory until :func:`release` is called). A sample without a readable
    ``json`` member or missing a file member is a :class:`BadSampleError`."""
    key = f'shard sample {sample.get("__key__", "?")}'
    try:
        info = _decode(json.loads(sample['json']))
    except KeyError:
        raise BadSampleError(key, 'json', 'member missing') from None
    except ValueError as e:
        raise BadSampleError(key, 'json', f'not JSON: {e}') from None
    members = {field: ref['member'] if isinstance(ref, dict) else ref
               for field, ref in info.pop('__files__', {}).items()}
    missing = [m for m in members.values() if m not in sample]
    if missing:  # checked before any bytes are registered: a failed sample leaves nothing in memory
        raise BadSampleError(key, 'member', f'{missing[0]} missing')
    for field, member in members.items():
        uri = f'{PREFIX}://{sample["__key__"]}/{member}'
        _MEMORY[uri] = sample[member]
        info[field] = uri
    return info


def release(info: dict) -> None:
    for v in info.values():
        if isinstance(v, str) and v.startswith(PREFIX + '://'):
            _MEMORY.pop(v, None)


def _fresh_shard_dir(out_dir: str) -> None:
    """Create ``out_dir``, removing the shard files and index an earlier conversion left there: a reader
    streams every shard file of the folder, so an older one would add its samples again."""
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f == INDEX or (f.startswith('shard-') and f.endswith('.tar')) or \
                (f.startswith('part-') and f.endswith('.parquet')):
            os.remove(osp.join(out_dir, f))


def write_shards(dataset, out_dir: str, shard_size: int = 1000, key_prefix: str = '') -> dict:
    """Write every sample of a map-style ``dataset`` (its ``get_data_info``) to ``out_dir/shard-NNNNNN.tar``.

    Returns ``{'samples': n, 'shards': [file names]}``.
    """
    import webdataset as wds
    _fresh_shard_dir(out_dir)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    n, counts = len(dataset), {}
    # webdataset's ShardWriter starts shard k+1 after shard_size samples; each shard stores a file shared by
    # several of its samples once (``uses``), so the samples are read a shard at a time
    with wds.ShardWriter(osp.join(out_dir, 'shard-%06d.tar'), maxcount=shard_size, maxsize=float('inf'),
                         verbose=0) as sink:
        for start in range(0, n, shard_size):
            infos = [dataset.get_data_info(i) for i in range(start, min(n, start + shard_size))]
            uses = Counter(path for info in infos for path in file_fields(info).values())
            stored: set = set()
            for i, info in enumerate(infos, start):
                sink.write(encode_sample(f'{key_prefix}{i:09d}', info, uses, stored))
            counts[osp.basename(sink.fname)] = len(infos)
    shards = sorted(counts)
    with open(osp.join(out_dir, INDEX), 'w') as f:
        json.dump(dict(samples=n, shards=counts), f)
    return dict(samples=n, shards=shards)


def write_parquet_shards(dataset, out_dir: str, shard_size: int = 1000, key_prefix: str = '') -> dict:
    """As :func:`write_shards`, as Parquet files (``part-NNNNNN.parquet``: columns ``key``, ``json`` and
    ``files`` = [{name, data}]) written by Hugging Face ``datasets``, for :class:`HFStreamingDataset`."""
    from datasets import Dataset, Features, Value
    from datasets import List as ListOf
    features = Features({'key': Value('string'), 'json': Value('string'),
                         'files': ListOf({'name': Value('string'), 'data': Value('binary')})})
    _fresh_shard_dir(out_dir)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    n, counts = len(dataset), {}
    for k, start in enumerate(range(0, n, shard_size)):
        rows = dict(key=[], json=[], files=[])
        for i in range(start, min(n, start + shard_size)):
            sample = encode_sample(f'{key_prefix}{i:09d}', dataset.get_data_info(i))
            rows['key'].append(sample.pop('__key__'))
            rows['json'].append(sample.pop('json').decode())
            rows['files'].append([dict(name=m, data=b) for m, b in sample.items()])
        name = f'part-{k:06d}.parquet'
        Dataset.from_dict(rows, features=features).to_parquet(osp.join(out_dir, name))
        counts[name] = len(rows['key'])
    with open(osp.join(out_dir, INDEX), 'w') as f:
        json.dump(dict(samples=n, shards=counts), f)
    return dict(samples=n, shards=sorted(counts))


def parquet_row_to_sample(row: dict) -> dict:
    """A row written by :func:`write_parquet_shards` -> the webdataset-style sample of :func:`decode_sample`."""
    return {'__key__': row['key'], 'json': row['json'].encode(), **{f['name']: f['data'] for f in row['files']}}


def shard_counts(urls: List[str]) -> Optional[int]:
    """Samples in these shards, from their folders' index files (None when a folder has none)."""
    total, cache = 0, {}
    for url in urls:
        folder = osp.dirname(url)
        if folder not in cache:
            path = osp.join(folder, INDEX)
            cache[folder] = json.load(open(path))['shards'] if osp.exists(path) else None
        if cache[folder] is None or osp.basename(url) not in cache[folder]:
            return None
        total += cache[folder][osp.basename(url)]
    return total


def iter_shards(urls: List[str], on_error) -> Iterator[dict]:
    """Samples of the tar shards in order (webdataset's reader: members grouped by key); a shard or member
    that cannot be read is passed to ``on_error(reason)`` and skipped."""
    import webdataset as wds

    def handler(exn: Exception) -> bool:
        on_error(f'{type(exn).__name__}: {exn}')
        return True  # go on with the next member / shard

    yield from share_files(wds.DataPipeline(wds.SimpleShardList(list(urls)), wds.tarfile_to_samples(handler=handler)))


def shard_list(shards) -> List[str]:
    """A directory (its ``*.tar``, sorted), a brace pattern (``dir/shard-{000000..000006}.tar``) or a list."""
    if isinstance(shards, str):
        if osp.isdir(shards):
            return sorted(osp.join(shards, f) for f in os.listdir(shards) if f.endswith(('.tar', '.parquet')))
        import braceexpand
        return list(braceexpand.braceexpand(shards))
    return [u for s in shards for u in shard_list(s)]
