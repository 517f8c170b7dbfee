"""Our PhotoMaker V2 ID encoder: the published checkpoint's size and keys, and a strict round trip."""

from __future__ import annotations

import torch

from photomaker.engines.local import build_id_encoder
from photomaker.engines.local.id_encoder import load_id_encoder
from stand_ins.random_weights import TINY_ENCODER, random_id_encoder_weights

FUSION_SHAPES = {
    "visual_projection.weight": (768, 1024),
    "visual_projection_2.weight": (1280, 1024),
    "fuse_module.mlp1.layernorm.weight": (4096,),
    "fuse_module.mlp1.fc1.weight": (2048, 4096),
    "fuse_module.mlp1.fc2.weight": (2048, 2048),
    "fuse_module.mlp2.fc1.weight": (2048, 2048),
    "fuse_module.layer_norm.bias": (2048,),
    "qformer_perceiver.token_proj.0.weight": (2048, 512),
    "qformer_perceiver.token_proj.2.weight": (4096, 2048),
    "qformer_perceiver.token_norm.weight": (2048,),
    "qformer_perceiver.perceiver_resampler.proj_in.weight": (2048, 1024),
    "qformer_perceiver.perceiver_resampler.proj_out.weight": (2048, 2048),
    "qformer_perceiver.perceiver_resampler.norm_out.weight": (2048,),
    "qformer_perceiver.perceiver_resampler.layers.3.0.to_q.weight": (2048, 2048),
    "qformer_perceiver.perceiver_resampler.layers.3.0.to_kv.weight": (4096, 2048),
    "qformer_perceiver.perceiver_resampler.layers.3.0.to_out.weight": (2048, 2048),
    "qformer_perceiver.perceiver_resampler.layers.3.1.0.weight": (2048,),
    "qformer_perceiver.perceiver_resampler.layers.3.1.1.weight": (8192, 2048),
    "qformer_perceiver.perceiver_resampler.layers.3.1.3.weight": (2048, 8192),
    "vision_model.embeddings.patch_embedding.weight": (1024, 3, 14, 14),
    "vision_model.embeddings.position_embedding.weight": (257, 1024),
    "vision_model.pre_layrnorm.weight": (1024,),
    "vision_model.encoder.layers.23.mlp.fc2.weight": (1024, 4096),
    "vision_model.post_layernorm.bias": (1024,),
}


def test_the_full_size_encoder_has_the_checkpoints_size_and_keys_without_allocating() -> None:
    encoder = build_id_encoder(device="meta")
    state = encoder.state_dict()

    assert all(tensor.is_meta for tensor in state.values())
    assert sum(parameter.numel() for parameter in encoder.parameters()) == 543_395_840
    assert len(state) == 463
    for key, shape in FUSION_SHAPES.items():
        assert tuple(state[key].shape) == shape, key
    # CLIP ViT-L/14 (24 layers of 16 tensors, embeddings and norms) plus the fusion parts, no buffers saved.
    assert sum(key.startswith("vision_model.encoder.layers.") for key in state) == 24 * 16
    assert sum(key.startswith("qformer_perceiver.perceiver_resampler.layers.") for key in state) == 4 * 11
    assert not any("position_ids" in key for key in state)


def test_a_state_dict_loads_strictly_and_gives_the_same_encoder() -> None:
    state = random_id_encoder_weights("tiny", seed=3)

    loaded = load_id_encoder(state, shape=TINY_ENCODER, device=torch.device("cpu"), dtype=torch.float32)

    assert loaded.state_dict().keys() == state.keys()
    assert all(torch.equal(loaded.state_dict()[key], value) for key, value in state.items())
    missing_one = dict(state)
    missing_one.pop("fuse_module.layer_norm.bias")
    try:
        load_id_encoder(missing_one, shape=TINY_ENCODER, device=torch.device("cpu"), dtype=torch.float32)
    except RuntimeError as error:
        assert "fuse_module.layer_norm.bias" in str(error)
    else:
        raise AssertionError("a state dict without one key loaded")


def test_fusion_replaces_exactly_the_class_word_copies() -> None:
    state = random_id_encoder_weights("tiny", seed=4)
    encoder = load_id_encoder(state, shape=TINY_ENCODER, device=torch.device("cpu"), dtype=torch.float32)
    photos = 3
    prompt = torch.randn(1, 77, TINY_ENCODER.cross_attention_dim)
    mask = torch.zeros(1, 77, dtype=torch.bool)
    mask[0, 5 : 5 + photos * TINY_ENCODER.tokens_per_photo] = True
    pixels = torch.randn(photos, 3, 32, 32)
    faces = torch.randn(photos, 512)

    with torch.inference_mode():
        fused = encoder(pixels, faces, prompt, mask)
        other_face = encoder(pixels, torch.randn(photos, 512), prompt, mask)

    assert torch.equal(fused[~mask], prompt[~mask])
    assert not torch.allclose(fused[mask], prompt[mask])
    assert not torch.allclose(fused[mask], other_face[mask])
