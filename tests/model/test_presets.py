"""Presets at SONIC's sizes: parameter counts (printed) and input widths; release model runs on CPU."""

from __future__ import annotations

import pytest
import torch

from sonic_model import MLP, UniversalTokenPolicy, compute_aux_losses, format_parameter_counts, preset

# SONIC_REFERENCE §9.1 / issue 7: sonic_release parameter figures.
RELEASE_FIGURES = {
    "encoder/g1": 4.2e6,
    "encoder/teleop": 3.5e6,
    "encoder/smpl": 4.6e6,
    "decoder/g1_dyn": 10.2e6,
    "decoder/g1_kin": 3.3e6,
    "critic": 11.5e6,
    "total": 37.4e6,
}


@pytest.fixture(scope="module")
def release() -> UniversalTokenPolicy:
    """The release-size model, built once for this module."""
    torch.manual_seed(0)
    p = preset("sonic_release")
    return UniversalTokenPolicy(p.model, p.contract)


def mlp_params(dims: list[int]) -> int:
    """Closed form: sum over Linear layers of (fan_in + 1) * fan_out."""
    return sum((a + 1) * b for a, b in zip(dims[:-1], dims[1:], strict=False))


def test_release_parameter_counts_match_sonic(release):
    """Counts equal the closed form of SONIC's layer sizes; each part rounds to SONIC's 0.1M figure
    and the total is within 1 % of 37.4M. (Per part, the 0.1M rounding alone allows up to 1.5 %:
    g1_kin has 3.347M against "3.3M".)"""
    counts = release.parameter_counts()
    print("\nsonic_release parameters:\n" + format_parameter_counts(counts))
    enc = [2048, 1024, 512, 512, 64]
    assert counts["encoder/g1"] == mlp_params([640, *enc])
    assert counts["decoder/g1_dyn"] == mlp_params([994, 2048, 2048, 1024, 1024, 512, 512, 29])
    assert counts["critic"] == mlp_params([1645, 2048, 2048, 1024, 1024, 512, 512, 1])
    for part, figure in RELEASE_FIGURES.items():
        assert round(counts[part] / 1e5) == round(figure / 1e5), (part, counts[part], figure)
    assert abs(counts["total"] - 37.4e6) / 37.4e6 < 0.01
    assert counts["total"] == counts["actor"] + counts["critic"]


def test_release_input_widths(release):
    """First-layer widths 640 / 267 / 840, g1_dyn 994, g1_kin 64 -> 640, critic 1645, 29 actions."""
    first = {n: m.module[0].in_features for n, m in release.encoders.items()}
    assert first == {"g1": 640, "teleop": 267, "smpl": 840}
    assert release.decoders["g1_dyn"].module[0].in_features == 994
    assert release.decoders["g1_kin"].module[0].in_features == 64
    assert release.decoders["g1_kin"].module[-1].out_features == 640
    assert release.critic is not None and release.critic.module[0].in_features == 1645
    assert release.decoders["g1_dyn"].module[-1].out_features == 29


def test_release_runs_act_and_evaluate_on_cpu(release, make_batch):
    """Batch 2 (g1 env, smpl+g1+teleop env): actions (2, 29), finite losses, tokens on the FSQ grid."""
    mask = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.bool)
    terms, proprio, critic_obs, _ = make_batch(release.contract, 2)
    out = release.act(terms, mask, proprio, critic_obs)
    assert out.actions.shape == (2, 29) and out.value is not None and out.value.shape == (2, 1)
    ev = release.evaluate(terms, mask, proprio, out.actions, critic_obs)
    losses = compute_aux_losses(ev, release.encoder_names, release.config.aux)
    assert all(torch.isfinite(v) for v in losses.values()) and len(losses) == 5
    steps = ev.token * 16
    assert torch.equal(steps, steps.round()) and steps.min() >= -16 and steps.max() <= 15


def test_bones_seed_sizes():
    """sonic_bones_seed: soma encoder reads 900, g1_dyn and critic are 4096 wide; counts printed."""
    p = preset("sonic_bones_seed")
    policy = UniversalTokenPolicy(p.model, p.contract)
    print("\nsonic_bones_seed parameters:\n" + format_parameter_counts(policy.parameter_counts()))
    soma, g1_dyn = policy.encoders["soma"], policy.decoders["g1_dyn"]
    assert isinstance(soma, MLP) and isinstance(g1_dyn, MLP)
    assert soma.in_dim == 900
    assert g1_dyn.module[0].out_features == 4096
    assert policy.critic is not None and policy.critic.module[0].out_features == 4096
    assert p.model.aux.g1_soma_latent == 1.0 and p.contract.tokenizer_width == 2652


def test_small_presets_keep_sonic_layout():
    """small / small_bones_seed share the SONIC contracts and the 64-wide token; unknown names list presets."""
    assert preset("small").contract == preset("sonic_release").contract
    assert preset("small_bones_seed").contract == preset("sonic_bones_seed").contract
    assert preset("small").model.latent_dim == 64
    with pytest.raises(KeyError, match="valid: \\['single_gpu', 'small'"):
        preset("tiny")


def test_single_gpu_preset_keeps_sonic_layout():
    """single_gpu: SONIC's release contract and token, the widths its docstring names, ≈8.1M parameters."""
    p = preset("single_gpu")
    assert p.contract == preset("sonic_release").contract
    assert p.model.latent_dim == preset("sonic_release").model.latent_dim == 64
    policy = UniversalTokenPolicy(p.model, p.contract)
    counts = policy.parameter_counts()
    # hand count of the g1_dyn MLP: 994 -> 1024 -> 512 -> 256 -> 29 (weights + biases)
    g1_dyn = 994 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 256 + 256 + 256 * 29 + 29
    assert counts["decoder/g1_dyn"] == g1_dyn
    assert 7.9e6 < counts["total"] < 8.3e6
