"""Use sonic_model in your own code: encode G1 and SMPL references into the same token space, decode actions.

Run: .venv/bin/python examples/use_sonic_model.py   (CPU is fine; random weights and inputs)
"""

from __future__ import annotations

import torch

from sonic_model import UniversalTokenPolicy, format_parameter_counts, preset

p = preset("sonic_release")  # SONIC's released sizes and observation layout
policy = UniversalTokenPolicy(p.model, p.contract, with_critic=False).eval()
print(format_parameter_counts(policy.parameter_counts()))

batch = 4
# One tensor per contract term, shaped (batch, *term.shape); here random stand-ins for an env's values.
terms = {t.name: torch.randn(batch, *t.shape) for t in p.contract.tokenizer if not t.file_only}
proprio = torch.randn(batch, p.contract.proprioception_width)  # 930 values of robot state history

with torch.no_grad():
    g1_latent, g1_token = policy.encode("g1", terms)  # (batch, 64): 2 tokens x 32 FSQ dims
    smpl_latent, smpl_token = policy.encode("smpl", terms)
    assert g1_token.shape == smpl_token.shape == (batch, p.model.latent_dim)
    print("g1 input", policy.encoder_input("g1", terms).shape, "-> token", tuple(g1_token.shape))
    print("smpl input", policy.encoder_input("smpl", terms).shape, "-> token", tuple(smpl_token.shape))
    actions = policy.decode(smpl_token, proprio)  # any modality's token drives the same decoder
    print("actions", tuple(actions.shape), "joint order:", p.contract.action_joint_names[:3], "...")
    # Per-env encoder mask (g1, teleop, smpl): the last active encoder drives each env's action.
    mask = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 1]], dtype=torch.bool)
    mean = policy.act_inference(terms, mask, proprio)
    assert torch.allclose(mean[2:], policy.decode(smpl_token[2:], proprio[2:]), atol=1e-5)
