# The embedded data at full-size model resolutions: the same datasets, splits and evaluators as synthetic.py,
# with the decoders' input at 512 px (the full detection decoder selects 900 queries from its encoder's
# tokens: 128 px images give only 340), InternVL dynamic tiling (up to 6 tiles plus a thumbnail) and
# edit / generation targets at the diffusion decoders' 512 px. The tile side follows the vision tower's
# image_size at build time (448 px for InternViT; visionllm.apis.tile_size).
_base_ = ['./synthetic.py']
tile_size = 448
image_size = 512
max_tiles = 6


def _full(node):
    """A dataset / pipeline dict of synthetic.py at the sizes above."""
    if isinstance(node, (list, tuple)):
        return type(node)(_full(v) for v in node)
    if not isinstance(node, dict):
        return node
    node = {k: _full(v) for k, v in node.items()}
    kind = node.get('type')
    if kind == 'mmdet.Resize':
        node['scale'] = (image_size, image_size)
    elif kind == 'PackVisionLLMInputs':
        node.update(tile_size=tile_size, max_tiles=max_tiles)
    elif kind == 'LoadTargetImage':
        node['size'] = image_size
    return node


pack = _full(_base_.pack)
infer_pipeline = _full(_base_.infer_pipeline)
caption_train, caption_val, caption_test = (_full(_base_[f'caption_{s}']) for s in ('train', 'val', 'test'))
vqa_train, vqa_val, vqa_test = (_full(_base_[f'vqa_{s}']) for s in ('train', 'val', 'test'))
det_train, det_val, det_test = (_full(_base_[f'det_{s}']) for s in ('train', 'val', 'test'))
det_free_val, det_free_test = _full(_base_.det_free_val), _full(_base_.det_free_test)
grd_train, grd_val, grd_test = (_full(_base_[f'grd_{s}']) for s in ('train', 'val', 'test'))
seg_train, seg_val, seg_test = (_full(_base_[f'seg_{s}']) for s in ('train', 'val', 'test'))
pose_train, pose_val, pose_test = (_full(_base_[f'pose_{s}']) for s in ('train', 'val', 'test'))
gen_train, gen_val, gen_test = (_full(_base_[f'gen_{s}']) for s in ('train', 'val', 'test'))
edit_train, edit_val, edit_test = (_full(_base_[f'edit_{s}']) for s in ('train', 'val', 'test'))
text_pipeline = _full(_base_.text_pipeline)
det_train_pipeline, det_test_pipeline = _full(_base_.det_train_pipeline), _full(_base_.det_test_pipeline)
det_free_pipeline = _full(_base_.det_free_pipeline)
grd_train_pipeline, grd_test_pipeline = _full(_base_.grd_train_pipeline), _full(_base_.grd_test_pipeline)
seg_train_pipeline, seg_test_pipeline = _full(_base_.seg_train_pipeline), _full(_base_.seg_test_pipeline)
pose_train_pipeline, pose_test_pipeline = _full(_base_.pose_train_pipeline), _full(_base_.pose_test_pipeline)
gen_pipeline, edit_pipeline = _full(_base_.gen_pipeline), _full(_base_.edit_pipeline)
