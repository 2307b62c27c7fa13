"""UniversalTokenPolicy: token selection, static rollout path, learning path, distribution, std clamp."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from sonic_model import (
    AuxLossConfig,
    ModelConfig,
    UniversalTokenPolicy,
    compute_aux_losses,
    preset,
    sonic_bones_seed_contract,
    weighted_aux_loss,
)

ENCODER_TERMS = {
    "g1": ("command_multi_future_nonflat", "motion_anchor_ori_b_mf_nonflat"),
    "teleop": (
        "command_multi_future_lower_body",
        "vr_3point_local_target",
        "vr_3point_local_orn_target",
        "motion_anchor_ori_b",
    ),
    "smpl": (
        "smpl_joints_multi_future_local_nonflat",
        "smpl_root_ori_b_multi_future",
        "joint_pos_multi_future_wrist_for_smpl",
    ),
}


def perturb_encoders(terms, selected: torch.Tensor, names=("g1", "teleop", "smpl"), scale: float = 3.0):
    """Copy of ``terms`` with large noise added to encoder e's terms on envs where selected[:, e] is set."""
    gen = torch.Generator().manual_seed(123)
    out = dict(terms)
    for e, name in enumerate(names):
        for term in ENCODER_TERMS[name]:
            x = out[term]
            sel = selected[:, e].to(x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
            out[term] = x + scale * sel * torch.randn(x.shape, generator=gen)
    return out


def last_active(mask: torch.Tensor) -> torch.Tensor:
    """(n, n_enc) bool: True only at each env's last active encoder."""
    idx = torch.arange(mask.shape[1]).expand_as(mask)
    last = torch.where(mask, idx, -1).amax(dim=1, keepdim=True)
    return idx == last


def test_last_active_encoder_alone_drives_the_action(small_policy, make_batch, mask):
    """Action mean equals decode(token of the last active encoder); perturbing every other encoder's
    inputs leaves it unchanged, while the aux losses change."""
    policy = small_policy
    terms, proprio, _, actions = make_batch(policy.contract, mask.shape[0])
    mean = policy.act_inference(terms, mask, proprio)
    driver = last_active(mask).int().argmax(dim=1)
    for env in range(mask.shape[0]):
        name = policy.encoder_names[int(driver[env])]
        one = {k: v[env : env + 1] for k, v in terms.items()}
        _, token = policy.encode(name, one)
        expected = policy.decode(token, proprio[env : env + 1])
        torch.testing.assert_close(mean[env : env + 1], expected)  # batch-size rounding only

    others = mask & ~last_active(mask)
    perturbed = perturb_encoders(terms, others | ~mask)
    assert torch.equal(policy.act_inference(perturbed, mask, proprio), mean)
    aux = policy.config.aux
    before = compute_aux_losses(policy.evaluate(terms, mask, proprio, actions), policy.encoder_names, aux)
    after = compute_aux_losses(policy.evaluate(perturbed, mask, proprio, actions), policy.encoder_names, aux)
    for name in ("g1_smpl_latent", "g1_teleop_latent", "teleop_smpl_latent", "reencoded_smpl_g1_latent"):
        assert not torch.equal(before[name], after[name]), name


class _SyncDetector(TorchDispatchMode):
    """Records aten ops that need a device-to-host sync or produce data-dependent shapes."""

    FORBIDDEN = ("nonzero", "_local_scalar_dense", "masked_select", "is_nonzero", "unique", "item", "equal")

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.__name__
        if any(name.split(".")[0] == f or name.split(".")[0].startswith(f"_{f}") for f in self.FORBIDDEN):
            self.seen.append(name)
        if name.startswith("index.") and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in (args[1] if len(args) > 1 else [])
        ):
            self.seen.append(name + " (boolean index)")
        return func(*args, **(kwargs or {}))


def test_act_runs_without_host_syncs(small_policy, make_batch, mask):
    """act (and the dense learning path) issue no nonzero / .item() / masked_select / boolean indexing."""
    terms, proprio, critic_obs, actions = make_batch(small_policy.contract, mask.shape[0])
    with _SyncDetector() as detector:
        out = small_policy.act(terms, mask, proprio, critic_obs)
        small_policy.evaluate(terms, mask, proprio, out.actions, critic_obs)
    assert detector.seen == []
    assert out.actions.shape == (6, 29) and out.log_prob.shape == (6,)
    assert out.value is not None and out.value.shape == (6, 1)
    with _SyncDetector() as detector:  # the detector itself works
        torch.tensor([0, 1]).nonzero()
    assert detector.seen


@pytest.mark.parametrize("compute", ["dense", "gather"])
def test_inactive_encoders_change_neither_losses_nor_gradients(make_batch, mask, compute):
    """Perturbing inactive encoders' inputs leaves the total loss and every gradient unchanged;
    dense and gather give the same losses and gradients.

    The g1 reference is also g1_recon's target on every env, so g1 inputs are perturbed only in a
    second pass with g1_recon off.
    """
    base = preset("small")

    def loss_and_grads(policy, terms, proprio, critic_obs, actions):
        policy.zero_grad()
        out = policy.evaluate(terms, mask, proprio, actions, critic_obs)
        assert out.value is not None
        aux = weighted_aux_loss(
            compute_aux_losses(out, policy.encoder_names, policy.config.aux), policy.config.aux
        )
        loss = -out.log_prob.mean() - 0.01 * out.entropy.mean() + out.value.pow(2).mean() + aux
        loss.backward()
        grads = {k: p.grad.clone() for k, p in policy.named_parameters() if p.grad is not None}
        return loss.detach(), grads

    def check_same(a, b):
        torch.testing.assert_close(a[0], b[0], rtol=1e-6, atol=0)
        assert a[1].keys() == b[1].keys()
        for k in a[1]:
            torch.testing.assert_close(a[1][k], b[1][k], rtol=1e-5, atol=1e-7, msg=k)

    terms, proprio, critic_obs, actions = make_batch(base.contract, mask.shape[0])
    keep_g1 = torch.tensor([True, False, False])
    for g1_recon, perturbed_cols in ((0.01, ~mask & ~keep_g1), (0.0, ~mask)):
        aux = base.model.aux.model_copy(update={"g1_recon": g1_recon})
        model = base.model.model_copy(update={"learning_encoder_compute": compute, "aux": aux})
        torch.manual_seed(0)
        policy = UniversalTokenPolicy(model, base.contract)
        reference = loss_and_grads(policy, terms, proprio, critic_obs, actions)
        check_same(
            loss_and_grads(policy, perturb_encoders(terms, perturbed_cols), proprio, critic_obs, actions),
            reference,
        )
        torch.manual_seed(0)
        dense = UniversalTokenPolicy(
            model.model_copy(update={"learning_encoder_compute": "dense"}), base.contract
        )
        check_same(loss_and_grads(dense, terms, proprio, critic_obs, actions), reference)


def test_log_prob_and_entropy_match_torch_normal(small_policy, make_batch, mask):
    """evaluate's log-prob and entropy equal torch.distributions.Normal summed over joints."""
    terms, proprio, _, actions = make_batch(small_policy.contract, mask.shape[0])
    with torch.no_grad():
        small_policy.std.copy_(torch.linspace(0.01, 0.4, 29))
    out = small_policy.evaluate(terms, mask, proprio, actions)
    dist = torch.distributions.Normal(out.mean, small_policy.std)
    torch.testing.assert_close(out.log_prob, dist.log_prob(actions).sum(-1))
    torch.testing.assert_close(out.entropy, dist.entropy().sum(-1))
    sampled = small_policy.act(terms, mask, proprio)
    torch.testing.assert_close(sampled.log_prob, dist.log_prob(sampled.actions).sum(-1).detach())


def test_sampled_actions_have_the_parameter_std(make_batch):
    """Over many envs, (action - mean) has per-joint std equal to the std parameter (init 0.05)."""
    torch.manual_seed(0)
    p = preset("small")
    policy = UniversalTokenPolicy(p.model, p.contract, with_critic=False)
    n = 4000
    terms, proprio, _, _ = make_batch(p.contract, n)
    out = policy.act(terms, torch.ones(n, 3, dtype=torch.bool), proprio)
    spread = (out.actions - out.mean).std(dim=0)
    torch.testing.assert_close(spread, torch.full((29,), 0.05), rtol=0.08, atol=0)


def test_std_clamp_holds(small_policy):
    """clamp_std_ puts std into [0.001, 0.5] in place, leaving values inside the range alone."""
    std_before = small_policy.std
    with torch.no_grad():
        small_policy.std.copy_(torch.tensor([-1.0, 1e-5, 0.2, 3.0] * 7 + [0.5]))
    small_policy.clamp_std_()
    assert small_policy.std is std_before
    expected = torch.tensor([0.001, 0.001, 0.2, 0.5] * 7 + [0.5])
    torch.testing.assert_close(small_policy.std.detach(), expected)
    assert torch.allclose(
        UniversalTokenPolicy(preset("small").model, preset("small").contract).std, torch.tensor(0.05)
    )


def test_parameter_names_follow_gear_sonic(small_policy):
    """Actor keys are encoders.<name>.module.<i>.*, decoders.<name>.module.<i>.* and std; FSQ adds none."""
    actor = small_policy.actor_state_dict()
    assert "std" in actor and actor["std"].shape == (29,)
    assert {k.split(".")[1] for k in actor if k.startswith("encoders.")} == {"g1", "teleop", "smpl"}
    assert "encoders.g1.module.0.weight" in actor and "encoders.g1.module.4.bias" in actor
    assert "decoders.g1_dyn.module.4.weight" in actor and "decoders.g1_kin.module.2.weight" in actor
    assert not any(k.startswith(("quantizer", "critic")) for k in actor)
    critic_keys = set(small_policy.state_dict()) - set(actor)
    assert "critic.module.0.weight" in critic_keys
    assert {
        "critic.normalizer.running_mean",
        "critic.normalizer.running_var",
        "critic.normalizer.count",
    } <= critic_keys


def test_no_active_encoder_gives_a_zero_token(small_policy, make_batch):
    """An env with an empty mask decodes the zero token (documented; the env never produces one)."""
    terms, proprio, _, _ = make_batch(small_policy.contract, 2)
    mean = small_policy.act_inference(terms, torch.zeros(2, 3, dtype=torch.bool), proprio)
    torch.testing.assert_close(mean, small_policy.decode(torch.zeros(2, 64), proprio))


def test_critic_normaliser_moves_only_when_asked(small_policy, make_batch, mask):
    """Values use the normaliser; evaluate/act never update it; update_critic_normalizer does."""
    terms, proprio, critic_obs, actions = make_batch(small_policy.contract, mask.shape[0])
    assert small_policy.critic is not None
    count = small_policy.critic.normalizer.count.clone()
    small_policy.act(terms, mask, proprio, critic_obs)
    small_policy.evaluate(terms, mask, proprio, actions, critic_obs)
    assert torch.equal(small_policy.critic.normalizer.count, count)
    small_policy.update_critic_normalizer(critic_obs)
    assert small_policy.critic.normalizer.count.item() == count.item() + 6


def test_bad_inputs_name_what_is_wrong(small_policy, make_batch, mask):
    """Wrong mask shape, missing term and config/contract encoder mismatch raise clear errors."""
    terms, proprio, _, _ = make_batch(small_policy.contract, mask.shape[0])
    with pytest.raises(ValueError, match=r"encoder mask: expected shape \(6, 3\)"):
        small_policy.act_inference(terms, mask[:, :2], proprio)
    missing = {k: v for k, v in terms.items() if k != "vr_3point_local_target"}
    with pytest.raises(KeyError, match="vr_3point_local_target"):
        small_policy.act_inference(missing, mask, proprio)
    with pytest.raises(ValueError, match="config encoders"):
        UniversalTokenPolicy(ModelConfig(), sonic_bones_seed_contract())
    with pytest.raises(ValueError, match="g1_soma_latent"):
        ModelConfig(aux=AuxLossConfig(g1_soma_latent=1.0))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_act_captures_in_a_cuda_graph(make_batch, mask):
    """act records into a CUDA graph (capture fails on any host sync) and replays to the eager mean."""
    torch.manual_seed(0)
    p = preset("small")
    policy = UniversalTokenPolicy(p.model, p.contract).cuda()
    terms, proprio, critic_obs, _ = make_batch(p.contract, mask.shape[0])
    terms = {k: v.cuda() for k, v in terms.items()}
    proprio, critic_obs, mask = proprio.cuda(), critic_obs.cuda(), mask.cuda()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        policy.act(terms, mask, proprio, critic_obs)  # warm-up outside the graph
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = policy.act(terms, mask, proprio, critic_obs)
    graph.replay()
    torch.testing.assert_close(out.mean, policy.act_inference(terms, mask, proprio))
