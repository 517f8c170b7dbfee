"""PhotoMaker V2's identity encoder: CLIP ViT-L/14 image features fused with ArcFace face embeddings.

Each ID photo gives two tokens: its 512-d face embedding is projected to two text-sized tokens,
which a perceiver refines by attending to the photo's CLIP patch features (the Q-Former design).
The class word of the prompt ("woman") is repeated two times per photo and each copy is fused with
one token. Module and parameter names follow TencentARC's checkpoint key for key, so `photomaker-v2.bin`'s
`id_encoder` part loads with `strict=True`; the arithmetic is theirs too (see NOTICE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection


@dataclass(frozen=True)
class IdEncoderShape:
    """The encoder's sizes; `FULL_SIZE` is the published checkpoint's, smaller ones serve tests."""

    vision: dict[str, Any] = field(
        default_factory=lambda: {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_attention_heads": 16,
            "num_hidden_layers": 24,
            "patch_size": 14,
            "projection_dim": 768,
        }
    )
    cross_attention_dim: int = 2048
    """The UNet's text width: both text encoders' hidden states side by side (768 + 1280)."""
    second_projection_dim: int = 1280
    id_embedding_dim: int = 512
    tokens_per_photo: int = 2
    perceiver_depth: int = 4
    perceiver_head_dim: int = 128

    def as_json(self) -> dict[str, Any]:
        """The shape as plain values (saved beside weights that are not the full-size ones)."""
        return {
            "vision": dict(self.vision),
            "cross_attention_dim": self.cross_attention_dim,
            "second_projection_dim": self.second_projection_dim,
            "id_embedding_dim": self.id_embedding_dim,
            "tokens_per_photo": self.tokens_per_photo,
            "perceiver_depth": self.perceiver_depth,
            "perceiver_head_dim": self.perceiver_head_dim,
        }


FULL_SIZE = IdEncoderShape()


class MLP(nn.Module):
    """LayerNorm, two linear layers with GELU between, optionally residual."""

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int, *, residual: bool) -> None:
        super().__init__()
        self.layernorm = nn.LayerNorm(in_dim)
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        self.act_fn = nn.GELU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc2(self.act_fn(self.fc1(self.layernorm(x))))
        return out + x if self.residual else out


class FuseModule(nn.Module):
    """Fuses each class-word embedding with one identity token."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.mlp1 = MLP(embed_dim * 2, embed_dim, embed_dim, residual=False)
        self.mlp2 = MLP(embed_dim, embed_dim, embed_dim, residual=True)
        self.layer_norm = nn.LayerNorm(embed_dim)

    def forward(self, prompt_embeds: torch.Tensor, id_tokens: torch.Tensor, class_mask: torch.Tensor) -> torch.Tensor:
        """`prompt_embeds` [1, L, D] with the class word's copies where `class_mask` [1, L] is True, and
        `id_tokens` [n, D] in that order: the prompt with those copies replaced by their fusion."""
        fused = prompt_embeds.clone()
        positions = class_mask[0]
        class_embeds = prompt_embeds[0, positions]
        stacked = self.mlp1(torch.cat([class_embeds, id_tokens.to(prompt_embeds.dtype)], dim=-1)) + class_embeds
        fused[0, positions] = self.layer_norm(self.mlp2(stacked))
        return fused


class PerceiverAttention(nn.Module):
    """Latents attend to the image features and to themselves."""

    def __init__(self, *, dim: int, dim_head: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        inner_dim = dim_head * heads
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner_dim, bias=False)
        self.to_kv = nn.Linear(dim, inner_dim * 2, bias=False)
        self.to_out = nn.Linear(inner_dim, dim, bias=False)

    def forward(self, x: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        x, latents = self.norm1(x), self.norm2(latents)
        keys, values = self.to_kv(torch.cat((x, latents), dim=-2)).chunk(2, dim=-1)
        batch, length, _ = latents.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, t.shape[1], self.heads, -1).transpose(1, 2)

        out = functional.scaled_dot_product_attention(heads(self.to_q(latents)), heads(keys), heads(values))
        return self.to_out(out.transpose(1, 2).reshape(batch, length, -1))


def feed_forward(dim: int, mult: int = 4) -> nn.Sequential:
    """The perceiver's feed-forward block (indexes 0-3 are the checkpoint's names)."""
    return nn.Sequential(
        nn.LayerNorm(dim),
        nn.Linear(dim, dim * mult, bias=False),
        nn.GELU(),
        nn.Linear(dim * mult, dim, bias=False),
    )


class FacePerceiverResampler(nn.Module):
    """Refines identity tokens by attending to CLIP's patch features."""

    def __init__(self, *, dim: int, depth: int, dim_head: int, heads: int, embedding_dim: int) -> None:
        super().__init__()
        self.proj_in = nn.Linear(embedding_dim, dim)
        self.proj_out = nn.Linear(dim, dim)
        self.norm_out = nn.LayerNorm(dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim=dim, dim_head=dim_head, heads=heads), feed_forward(dim)])
            for _ in range(depth)
        )

    def forward(self, latents: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        features = self.proj_in(features)
        for block in self.layers:
            attention, ff = cast(nn.ModuleList, block)
            latents = attention(features, latents) + latents
            latents = ff(latents) + latents
        return self.norm_out(self.proj_out(latents))


class QFormerPerceiver(nn.Module):
    """Face embedding to identity tokens: project, normalise, refine with the image's features."""

    def __init__(self, shape: IdEncoderShape) -> None:
        super().__init__()
        dim, ratio = shape.cross_attention_dim, 4
        self.tokens_per_photo = shape.tokens_per_photo
        self.token_proj = nn.Sequential(
            nn.Linear(shape.id_embedding_dim, shape.id_embedding_dim * ratio),
            nn.GELU(),
            nn.Linear(shape.id_embedding_dim * ratio, dim * shape.tokens_per_photo),
        )
        self.token_norm = nn.LayerNorm(dim)
        self.perceiver_resampler = FacePerceiverResampler(
            dim=dim,
            depth=shape.perceiver_depth,
            dim_head=shape.perceiver_head_dim,
            heads=dim // shape.perceiver_head_dim,
            embedding_dim=shape.vision["hidden_size"],
        )

    def forward(self, face_embeds: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        tokens = self.token_norm(self.token_proj(face_embeds).reshape(face_embeds.shape[0], self.tokens_per_photo, -1))
        return tokens + self.perceiver_resampler(tokens, features)


class PhotoMakerIdEncoder(CLIPVisionModelWithProjection):
    """CLIP's vision tower plus the fusion parts: updates a prompt's class-word embeddings with an identity."""

    def __init__(self, shape: IdEncoderShape = FULL_SIZE) -> None:
        super().__init__(CLIPVisionConfig(**shape.vision))
        self.shape = shape
        self.fuse_module = FuseModule(shape.cross_attention_dim)
        # In the checkpoint, unused by V2's forward pass; kept so that the weights load strictly.
        self.visual_projection_2 = nn.Linear(shape.vision["hidden_size"], shape.second_projection_dim, bias=False)
        self.qformer_perceiver = QFormerPerceiver(shape)

    def forward(  # a different model's forward than CLIP's
        self,
        pixel_values: torch.Tensor,
        face_embeds: torch.Tensor,
        prompt_embeds: torch.Tensor,
        class_mask: torch.Tensor,
    ) -> torch.Tensor:
        """`pixel_values` [n, 3, H, W] and `face_embeds` [n, 512] for n photos; `prompt_embeds` [1, L, D] whose
        class word is repeated `tokens_per_photo × n` times where `class_mask` [1, L] is True."""
        features = self.vision_model(pixel_values=pixel_values).last_hidden_state
        id_tokens = self.qformer_perceiver(face_embeds.to(features.dtype), features)
        return self.fuse_module(prompt_embeds, id_tokens.reshape(-1, id_tokens.shape[-1]), class_mask)


def build_id_encoder(device: str | torch.device = "meta", *, shape: IdEncoderShape = FULL_SIZE) -> PhotoMakerIdEncoder:
    """The encoder with uninitialised weights on `device` (on "meta", free: for checking shapes, or to load
    a checkpoint into with `load_state_dict(..., assign=True)`)."""
    with torch.device(device):
        return PhotoMakerIdEncoder(shape).eval()


def load_id_encoder(
    state: dict[str, torch.Tensor], *, shape: IdEncoderShape = FULL_SIZE, device: torch.device, dtype: torch.dtype
) -> PhotoMakerIdEncoder:
    """The encoder holding `state` (loaded strictly), on `device` in `dtype`, without first filling it at random."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):  # parameters on "meta", buffers (CLIP's position ids) real
        encoder = PhotoMakerIdEncoder(shape)
    encoder.load_state_dict(state, strict=True, assign=True)
    nn.Module.to(encoder, device=device, dtype=dtype)  # transformers wraps `to` in a way type checkers misread
    return encoder.eval()
