from mmengine.dataset import DefaultSampler

from visionllm.datasets import MixtureDataset, TaskGroupedBatchSampler
from visionllm.datasets.samplers import sample_task


def _mixture(root, seed=0):
    return MixtureDataset(
        weights=[0.5, 0.3, 0.2], seed=seed, length=60,
        datasets=[dict(type='CocoOVDDataset', data_root=root, ann_file='annotations/instances_train.json', pipeline=[]),
                  dict(type='ConversationDataset', data_root=root, ann_file='conversations/vqa_train.jsonl',
                       task='vqa', pipeline=[]),
                  dict(type='TextToImageDataset', data_root=root, ann_file='t2i/train.jsonl', pipeline=[])])


def test_mixture_is_deterministic_and_weighted(synth_root):
    a, b, c = _mixture(synth_root), _mixture(synth_root), _mixture(synth_root, seed=1)
    assert len(a) == 60 and list(a.source) == list(b.source) and list(a.index) == list(b.index)
    assert list(a.source) != list(c.source)
    counts = [int((a.source == k).sum()) for k in range(3)]
    assert counts[0] > counts[1] > counts[2] > 0
    assert sample_task(a, int((a.source == 2).nonzero()[0][0])) == 'gen'


def test_task_grouped_batches_agree_across_ranks(synth_root):
    ds = _mixture(synth_root)
    fams = []
    for rank in (0, 1):
        sampler = DefaultSampler(ds, shuffle=True, seed=0)
        sampler.rank, sampler.world_size = rank, 2
        sampler.num_samples = (len(ds) + 1) // 2
        sampler.total_size = sampler.num_samples * 2
        bs = TaskGroupedBatchSampler(sampler, batch_size=4, drop_last=True, seed=0)
        batches = list(bs)
        fam = [{bs._family(i) for i in b} for b in batches]
        assert all(len(f) == 1 for f in fam)  # one decoder family per batch
        fams.append([f.pop() for f in fam])
    n = min(len(fams[0]), len(fams[1]))
    assert n >= 3 and fams[0][:n] == fams[1][:n]  # the same family at every step on both ranks
