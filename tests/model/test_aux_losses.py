"""Auxiliary losses: zero when encoders agree, hand-computed MSE otherwise, detach option, soma pair."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sonic_model import (
    AuxLossConfig,
    EvaluateOutput,
    UniversalTokenPolicy,
    compute_aux_losses,
    masked_mse,
    preset,
    weighted_aux_loss,
)

NAMES = ("g1", "teleop", "smpl")


def handmade_output(mask: torch.Tensor, latents: dict[str, torch.Tensor], kin_pred, kin_target, reencoded):
    """An EvaluateOutput carrying only what the aux losses read."""
    n = mask.shape[0]
    zeros = torch.zeros(n)
    return EvaluateOutput(
        log_prob=zeros, entropy=zeros, mean=zeros, std=zeros, value=None, mask=mask, latents=latents,
        token=torch.zeros(n, 64), kin_pred=kin_pred, kin_target=kin_target, reencoded_g1_latent=reencoded,
    )  # fmt: skip


def test_masked_mse_equals_mse_over_selected_rows():
    """masked_mse(pred, target, mask) == F.mse_loss(pred[mask], target[mask]); 0 for an empty mask."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 5, generator=gen), torch.randn(7, 5, generator=gen)
    m = torch.tensor([1, 0, 1, 1, 0, 0, 1], dtype=torch.bool)
    torch.testing.assert_close(masked_mse(a, b, m), F.mse_loss(a[m], b[m]))
    torch.testing.assert_close(masked_mse(a, b), F.mse_loss(a, b))
    assert masked_mse(a, b, torch.zeros(7, dtype=torch.bool)).item() == 0.0


def test_losses_are_zero_when_encoders_agree_and_positive_otherwise(mask):
    """Equal latents / perfect reconstruction give 0; a difference on co-active envs gives the
    MSE over exactly those envs; a difference on envs where the pair is not co-active gives 0."""
    gen = torch.Generator().manual_seed(1)
    shared = torch.randn(6, 64, generator=gen)
    target = torch.randn(6, 640, generator=gen)
    config = AuxLossConfig()
    agree = handmade_output(mask, {n: shared.clone() for n in NAMES}, target.clone(), target, shared.clone())
    losses = compute_aux_losses(agree, NAMES, config)
    assert set(losses) == {
        "g1_recon",
        "g1_smpl_latent",
        "g1_teleop_latent",
        "teleop_smpl_latent",
        "reencoded_smpl_g1_latent",
    }
    assert all(v.item() == 0.0 for v in losses.values())

    smpl = shared + torch.randn(6, 64, generator=gen)
    differ = handmade_output(
        mask, {"g1": shared, "teleop": shared, "smpl": smpl}, target + 1.0, target, shared
    )
    losses = compute_aux_losses(differ, NAMES, config)
    g1_smpl_envs = mask[:, 0] & mask[:, 2]  # rows 2 and 3
    torch.testing.assert_close(losses["g1_smpl_latent"], F.mse_loss(shared[g1_smpl_envs], smpl[g1_smpl_envs]))
    teleop_smpl_envs = mask[:, 1] & mask[:, 2]  # row 3
    torch.testing.assert_close(
        losses["teleop_smpl_latent"], F.mse_loss(shared[teleop_smpl_envs], smpl[teleop_smpl_envs])
    )
    assert losses["g1_teleop_latent"].item() == 0.0
    torch.testing.assert_close(losses["g1_recon"], torch.tensor(1.0))

    smpl_off = shared.clone()
    smpl_off[~g1_smpl_envs] += 5.0  # differ only where g1 and smpl are not both active
    off = handmade_output(mask, {"g1": shared, "teleop": shared, "smpl": smpl_off}, target, target, shared)
    assert compute_aux_losses(off, NAMES, config)["g1_smpl_latent"].item() == 0.0


def test_weighted_total_and_zero_weights():
    """The total is Σ weight·loss; a zero weight drops the loss from the dict."""
    config = AuxLossConfig(g1_recon=0.01, teleop_smpl_latent=0.0)
    losses = {"g1_recon": torch.tensor(2.0), "g1_smpl_latent": torch.tensor(3.0)}
    torch.testing.assert_close(weighted_aux_loss(losses, config), torch.tensor(0.02 + 3.0))
    mask = torch.ones(2, 3, dtype=torch.bool)
    latents = {n: torch.randn(2, 64) for n in NAMES}
    out = handmade_output(mask, latents, torch.zeros(2, 640), torch.zeros(2, 640), torch.zeros(2, 64))
    assert "teleop_smpl_latent" not in compute_aux_losses(out, NAMES, config)


def test_detach_teleop_target_blocks_the_teleop_gradient(make_batch, mask):
    """teleop_smpl_latent reaches the teleop encoder by default and not with detach_teleop_target."""
    p = preset("small")
    terms, proprio, _, actions = make_batch(p.contract, mask.shape[0])
    grads = {}
    for detach in (False, True):
        aux = AuxLossConfig(detach_teleop_target=detach)
        torch.manual_seed(0)
        policy = UniversalTokenPolicy(p.model.model_copy(update={"aux": aux}), p.contract, with_critic=False)
        out = policy.evaluate(terms, mask, proprio, actions)
        compute_aux_losses(out, policy.encoder_names, aux)["teleop_smpl_latent"].backward()
        grads[detach] = {
            n: sum(float(q.grad.abs().sum()) for q in policy.encoders[n].parameters() if q.grad is not None)
            for n in NAMES
        }
    assert grads[False]["teleop"] > 0 and grads[False]["smpl"] > 0
    assert grads[True]["teleop"] == 0.0 and grads[True]["smpl"] == grads[False]["smpl"]


def test_soma_pair_only_in_bones_seed(make_batch):
    """g1_soma_latent exists with the soma encoder (weight 1.0) and is computed on g1+soma envs."""
    p = preset("small_bones_seed")
    assert p.model.aux.g1_soma_latent == 1.0
    torch.manual_seed(0)
    policy = UniversalTokenPolicy(p.model, p.contract, with_critic=False)
    mask = torch.tensor([[1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=torch.bool)
    terms, proprio, _, actions = make_batch(p.contract, 3)
    out = policy.evaluate(terms, mask, proprio, actions)
    losses = compute_aux_losses(out, policy.encoder_names, p.model.aux)
    expected = F.mse_loss(out.latents["g1"][:1], out.latents["soma"][:1])
    torch.testing.assert_close(losses["g1_soma_latent"], expected)
    assert "g1_soma_latent" not in compute_aux_losses(out, policy.encoder_names[:3], AuxLossConfig())
