"""Grounding-DINO transformer whose "text" features are super-link class embeddings.

mmdet's :class:`GroundingDINO` fuses image features with BERT token features and classifies by a dot
product with them. Here the token features are given: one embedding per class of the prompt (so any
class list works), no language model is built, class embeddings carry no positional encoding and
attend only to themselves, and the contrastive-denoising label queries are the class embeddings
themselves instead of a closed-set label table.
"""
import copy
from typing import Dict, Tuple

import torch
from mmdet.models.detectors import GroundingDINO
from mmdet.models.detectors.dino import DINO
from mmdet.models.layers import MLP, SinePositionalEncoding
from mmdet.models.layers.transformer.dino_layers import CdnQueryGenerator
from mmdet.models.layers.transformer.grounding_dino_layers import (
    GroundingDinoTransformerDecoder,
    GroundingDinoTransformerEncoder,
)
from torch import Tensor, nn

from visionllm.registry import MODELS


class ConditionCdnQueryGenerator(CdnQueryGenerator):
    """CDN queries whose label part is looked up in ``class_table`` [N, d] (set per batch).

    Ground-truth labels given to it index rows of the table; label noise swaps in random rows.
    """

    def __init__(self, **kwargs):
        super().__init__(**dict(kwargs, num_classes=1))
        del self.label_embedding
        self.class_table: Tensor = None

    def generate_dn_label_query(self, gt_labels: Tensor, num_groups: int) -> Tensor:
        labels = gt_labels.repeat(2 * num_groups, 1).view(-1)
        chosen = torch.nonzero(torch.rand_like(labels.float()) < self.label_noise_scale * 0.5).view(-1)
        noisy = labels.scatter(0, chosen, torch.randint_like(chosen, 0, len(self.class_table)))
        return self.class_table[noisy].float()  # the DN buffers are fp32 (also under bf16 autocast)


@MODELS.register_module()
class ConditionedGroundingDINO(GroundingDINO):
    """Grounding DINO without a language model; see module docstring. Takes GroundingDINO's
    arguments except ``language_model``."""

    def __init__(self, **kwargs):
        dn_cfg = copy.deepcopy(kwargs.get('dn_cfg'))
        super().__init__(language_model=None, **kwargs)
        self.dn_query_generator = ConditionCdnQueryGenerator(
            **dn_cfg, embed_dims=self.embed_dims, num_matching_queries=self.num_queries)

    def _init_layers(self) -> None:
        self.positional_encoding = SinePositionalEncoding(**self.positional_encoding)
        self.encoder = GroundingDinoTransformerEncoder(**self.encoder)
        self.decoder = GroundingDinoTransformerDecoder(**self.decoder)
        self.embed_dims = self.encoder.embed_dims
        # onedl-mmdetection 3.5.1 encodes reference boxes with embed_dims features per coordinate
        # (4 * embed_dims in total, as DinoTransformerDecoder expects), but GroundingDinoTransformerDecoder
        # still builds its ref_point_head for 2 * embed_dims inputs; size it like DINO's.
        self.decoder.ref_point_head = MLP(self.embed_dims * 4, self.embed_dims, self.embed_dims, 2)
        self.query_embedding = nn.Embedding(self.num_queries, self.embed_dims)
        # mmdet allocates this uninitialised and fills it in init_weights(); a model used without the
        # Runner's init_weights() would otherwise compute with garbage memory
        self.level_embed = nn.Parameter(torch.randn(self.num_feature_levels, self.embed_dims))
        self.memory_trans_fc = nn.Linear(self.embed_dims, self.embed_dims)
        self.memory_trans_norm = nn.LayerNorm(self.embed_dims)

    def init_weights(self) -> None:
        DINO.init_weights(self)

    def forward_encoder(self, feat: Tensor, feat_mask: Tensor, feat_pos: Tensor, spatial_shapes: Tensor,
                        level_start_index: Tensor, valid_ratios: Tensor, text_dict: Dict) -> Dict:
        """As GroundingDINO's, with zero text positions (a class list is a set)."""
        mask = text_dict['text_token_mask']
        emb = text_dict['embedded']
        memory, memory_text = self.encoder(
            query=feat, query_pos=feat_pos, key_padding_mask=feat_mask, spatial_shapes=spatial_shapes,
            level_start_index=level_start_index, valid_ratios=valid_ratios, memory_text=emb,
            text_attention_mask=~mask, pos_text=torch.zeros_like(emb), position_ids=None,
            text_self_attention_masks=text_dict['masks'])
        return dict(memory=memory, memory_mask=feat_mask, spatial_shapes=spatial_shapes,
                    memory_text=memory_text, text_token_mask=mask)

    def run_transformer(self, img_feats: Tuple[Tensor], text_dict: Dict, det_samples) -> Tuple[Dict, Dict]:
        """Encoder + decoder. Returns (head inputs, incl. ``class_table``: the class embeddings before the
        encoder [B, G, d]; encoder outputs incl. ``memory`` [B, N, d] and ``spatial_shapes`` [levels, 2])."""
        enc_in, dec_in = self.pre_transformer(img_feats, det_samples)
        enc_out = self.forward_encoder(**enc_in, text_dict=text_dict)
        tmp_dec_in, head_in = self.pre_decoder(**enc_out, batch_data_samples=det_samples)
        dec_in.update(tmp_dec_in)
        head_in.update(self.forward_decoder(**dec_in), class_table=text_dict['embedded'])
        return head_in, enc_out
