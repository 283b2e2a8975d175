"""A Hugging Face LLaVA-style vision-language model behind maskforge's `mllm` interface:
forward(pixel_values, input_ids) -> logits [N, T, V] of the T tokens that follow the image.

The wrapper composes the model's parts itself (vision tower, projector, language model)
instead of calling LlavaForConditionalGeneration.forward: that path builds its attention
mask with vmap and splits image features per image, which torch.jit.trace cannot follow
(the traced graph would fix the batch size). An explicit causal mask and one image per
sample keep batch size and sequence length dynamic in the trace."""
import torch
import torch.nn as nn

from .tracing import positions

# The mean and std CLIP vision towers take (OpenAI CLIP), for the towers train_vlm.py builds and the
# CLIP models export_victim.py exports.
CLIP_NORM = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])


class RotaryOnInputDevice(nn.Module):
    """Llama's rotary embedding (cos and sin of position x frequency) without its
    `.to(x.device)`, which tracing records as the CPU: here the frequencies are a buffer of
    this module and move with it."""

    def __init__(self, rotary):
        super().__init__()
        self.register_buffer("inv_freq", rotary.inv_freq.clone(), persistent=False)  # as in Llama: not in state dicts
        self.scaling = rotary.attention_scaling

    def forward(self, x, position_ids):
        freqs = (self.inv_freq[None, :, None].float() * position_ids[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), -1)
        return (emb.cos() * self.scaling).to(x.dtype), (emb.sin() * self.scaling).to(x.dtype)


class MllmWrapper(nn.Module):
    def __init__(self, model, prefix_ids=()):
        super().__init__()
        self.model = model
        language = model.model.language_model
        language.rotary_emb = RotaryOnInputDevice(language.rotary_emb)
        self.register_buffer("prefix", torch.tensor(list(prefix_ids), dtype=torch.long))
        self.layer = model.config.vision_feature_layer
        self.drop_cls = model.config.vision_feature_select_strategy == "default"

    def forward(self, pixel_values, input_ids):
        return self.answer(self.image_features(pixel_values), input_ids)

    def image_features(self, pixel_values):
        """The vision tower's tokens at the configured layer, [N, tokens, vision width]."""
        vision = self.model.model.vision_tower(pixel_values, output_hidden_states=True)
        features = vision.hidden_states[self.layer]
        return features[:, 1:] if self.drop_cls else features

    def answer(self, features, input_ids):
        """Logits of input_ids' tokens after the prefix and the projected image tokens."""
        n = input_ids.shape[0]
        image = self.model.model.multi_modal_projector(features)
        embed = self.model.model.get_input_embeddings()
        prefix = embed(self.prefix).unsqueeze(0).expand(n, -1, -1)
        x = torch.cat([prefix, image, embed(input_ids)], 1)
        t = x.shape[1]
        # Made from x, not by factory calls: tracing would record those on the CPU (see tracing.py).
        mask = x.new_full((t, t), torch.finfo(x.dtype).min).triu(1)[None, None].expand(n, 1, t, t)
        position = positions(x, t, torch.long)
        hidden = self.model.model.language_model(inputs_embeds=x, attention_mask=mask, position_ids=position[None].expand(n, -1),
                                                 cache_position=position, use_cache=False, return_dict=False)[0]
        return self.model.lm_head(hidden[:, t - input_ids.shape[1]:])


def tiny_llava(vocab_size=100, image_size=32):
    """A tiny randomly initialised LLaVA (CLIP vision tower + Llama), for tests. Its weights
    are drawn 15x wider than Hugging Face's default (std 0.3, not 0.02), and it is 64 wide:
    at the default scale, or 32 wide, the random model's answer hardly depends on the image,
    and whether a test could steer it depended on the CPU's rounding."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    init, width = 0.3, 64
    vision = CLIPVisionConfig(hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2, num_attention_heads=2,
                              image_size=image_size, patch_size=8, projection_dim=width, initializer_range=init,
                              initializer_factor=init / 0.02)
    text = LlamaConfig(vocab_size=vocab_size, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256, initializer_range=init)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=vocab_size - 1,
                         vision_feature_layer=-2, vision_feature_select_strategy="default")
    return LlavaForConditionalGeneration._from_config(config, attn_implementation="eager")


def load_llava(path, allow_download):
    from transformers import LlavaForConditionalGeneration

    return LlavaForConditionalGeneration.from_pretrained(path, attn_implementation="eager", dtype=torch.float32,
                                                         local_files_only=not allow_download)
