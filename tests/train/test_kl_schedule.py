"""Adaptive-KL learning rate and the actor/critic optimiser."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch import nn

from sonic_train.algo.config import PPOConfig
from sonic_train.algo.kl_schedule import AdaptiveKLSchedule
from sonic_train.algo.optim import ActorCriticOptimizer, clip_grad_norm


def test_kl_above_twice_desired_divides_lr_by_1_5() -> None:
    """KL 0.03 > 0.02: 1.2e-4 / 1.5 = 8e-5."""
    schedule = AdaptiveKLSchedule(initial_lr=1.2e-4)
    assert schedule.update(0.03) == pytest.approx(8e-5)


def test_kl_below_half_desired_multiplies_lr_by_1_5() -> None:
    """KL 0.004 < 0.005: 2e-5 * 1.5 = 3e-5."""
    schedule = AdaptiveKLSchedule()
    assert schedule.update(torch.tensor(0.004)) == pytest.approx(3e-5)


def test_kl_inside_band_or_zero_keeps_lr() -> None:
    """0.005 <= KL <= 0.02 and KL == 0 leave the lr alone (SONIC requires KL > 0 to raise it)."""
    schedule = AdaptiveKLSchedule()
    for kl in (0.005, 0.01, 0.02, 0.0):
        assert schedule.update(kl) == pytest.approx(2e-5)


def test_lr_is_clamped_to_bounds() -> None:
    """Repeated moves stop at 2e-4 going up and 1e-5 going down."""
    schedule = AdaptiveKLSchedule()
    for _ in range(20):
        schedule.update(0.001)
    assert schedule.lr == pytest.approx(2e-4)
    for _ in range(40):
        schedule.update(1.0)
    assert schedule.lr == pytest.approx(1e-5)


def test_nan_kl_is_an_error() -> None:
    """A NaN KL (diverged update) raises instead of silently keeping the lr."""
    with pytest.raises(ValueError, match="NaN"):
        AdaptiveKLSchedule().update(math.nan)


def test_schedule_state_round_trip() -> None:
    """load_state_dict restores the lr of another schedule."""
    a = AdaptiveKLSchedule()
    a.update(0.001)
    b = AdaptiveKLSchedule()
    b.load_state_dict(a.state_dict())
    assert b.lr == a.lr == pytest.approx(3e-5)


def test_config_defaults_are_sonic_values() -> None:
    """PPOConfig defaults equal SONIC_REFERENCE §9.2 / §1.1."""
    cfg = PPOConfig()
    assert (cfg.num_steps_per_env, cfg.num_learning_epochs, cfg.num_mini_batches) == (24, 5, 4)
    assert (cfg.gamma, cfg.lam, cfg.clip_param, cfg.value_clip_param) == (0.99, 0.95, 0.2, 0.2)
    assert (cfg.actor_learning_rate, cfg.desired_kl, cfg.adaptive_lr_min, cfg.adaptive_lr_max) == (
        2e-5,
        0.01,
        1e-5,
        2e-4,
    )
    assert (cfg.max_grad_norm, cfg.entropy_coef, cfg.value_loss_coef) == (0.1, 0.01, 1.0)
    assert cfg.separate_critic_optimizer is False
    with pytest.raises(ValueError, match="adaptive_lr_min"):
        PPOConfig(adaptive_lr_min=1e-3, adaptive_lr_max=1e-4)


def _nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return nn.Linear(3, 2), nn.Linear(3, 1)


def test_single_optimizer_covers_actor_and_critic_without_weight_decay() -> None:
    """SONIC's default: one AdamW, weight decay 0, adaptive lr applied to every parameter."""
    actor, critic = _nets()
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=2e-5)
    assert opt.critic is None
    params = {id(p) for g in opt.main.param_groups for p in g["params"]}
    assert params == {id(p) for p in [*actor.parameters(), *critic.parameters()]}
    assert all(g["weight_decay"] == 0.0 for g in opt.main.param_groups)
    opt.set_lr(7e-5)
    assert opt.lr == pytest.approx(7e-5)
    assert all(g["lr"] == pytest.approx(7e-5) for g in opt.main.param_groups)


def test_separate_critic_optimizer_keeps_fixed_critic_lr() -> None:
    """Opt-in: the critic has its own AdamW at 1e-3 which the adaptive lr does not touch."""
    actor, critic = _nets()
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), separate_critic=True)
    assert opt.critic is not None
    opt.set_lr(1e-4)
    assert opt.critic.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert opt.main.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_optimizer_state_round_trip_reproduces_next_step() -> None:
    """A fresh optimiser loaded from state_dict makes the same next update as the original."""
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(3))

    def step(actor: nn.Module, critic: nn.Module, opt: ActorCriticOptimizer) -> None:
        opt.zero_grad()
        (actor(x).square().sum() + critic(x).square().sum()).backward()
        opt.step()

    actor, critic = _nets()
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=1e-2)
    step(actor, critic, opt)
    actor2, critic2 = _nets()
    actor2.load_state_dict(actor.state_dict())
    critic2.load_state_dict(critic.state_dict())
    opt2 = ActorCriticOptimizer(actor2.parameters(), critic2.parameters(), lr=1e-2)
    buffer = io.BytesIO()  # through bytes, as a checkpoint does (state_dict() shares tensors)
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    opt2.load_state_dict(torch.load(buffer, weights_only=True))
    step(actor, critic, opt)
    step(actor2, critic2, opt2)
    for a, b in zip(
        [*actor.parameters(), *critic.parameters()],
        [*actor2.parameters(), *critic2.parameters()],
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="separate_critic_optimizer"):
        ActorCriticOptimizer(actor.parameters(), critic.parameters(), separate_critic=True).load_state_dict(
            opt.state_dict()
        )


def test_clip_grad_norm_scales_to_max_norm() -> None:
    """Gradient (3, 4) has norm 5; after clipping to 0.1 it is (0.06, 0.08)."""
    p = nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([3.0, 4.0])
    norm, finite = clip_grad_norm([p], 0.1)
    assert bool(finite) and norm.item() == pytest.approx(5.0)
    torch.testing.assert_close(p.grad, torch.tensor([0.06, 0.08]), rtol=1e-4, atol=1e-6)


def test_non_finite_gradient_skips_the_step_entirely() -> None:
    """A NaN gradient is reported as not finite, and a step given the skip changes neither the parameters
    nor AdamW's moments and step count; the next finite step moves them as if the skip never happened."""
    actor, critic = _nets()
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(5))
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=1e-2)
    ref_actor, ref_critic = _nets()
    ref = ActorCriticOptimizer(ref_actor.parameters(), ref_critic.parameters(), lr=1e-2)

    def backward(a: nn.Module, c: nn.Module, o: ActorCriticOptimizer) -> None:
        o.zero_grad()
        (a(x).square().sum() + c(x).square().sum()).backward()

    backward(actor, critic, opt)
    opt.step()
    backward(ref_actor, ref_critic, ref)
    ref.step()
    before = [p.detach().clone() for p in opt.parameters]
    moments = [opt.main.state[p]["exp_avg"].clone() for p in opt.parameters]
    for p in opt.parameters:
        assert p.grad is not None
        p.grad[...] = math.nan
    _, finite = clip_grad_norm(opt.parameters, 0.1)
    assert not bool(finite)
    opt.step(skip=~finite)
    for p, b, m in zip(opt.parameters, before, moments, strict=True):
        assert torch.equal(p.detach(), b) and torch.equal(opt.main.state[p]["exp_avg"], m)
        assert float(opt.main.state[p]["step"]) == 1.0
    backward(actor, critic, opt)
    opt.step(skip=torch.tensor(False))
    backward(ref_actor, ref_critic, ref)
    ref.step()
    for a, b in zip(opt.parameters, ref.parameters, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_adjust_on_tensors_equals_the_host_rule() -> None:
    """adjust() gives update()'s lr exactly (float64) for KLs around every boundary, 0, and NaN (no change)."""
    kls = [0.0, 1e-4, 0.004, 0.005, 0.0050001, 0.01, 0.02, 0.0200001, 0.5, math.nan]
    for start in (2e-5, 1.2e-5, 1.9e-4, 1e-5, 2e-4):
        host = AdaptiveKLSchedule(initial_lr=start)
        lr = torch.tensor(start, dtype=torch.float64)
        for kl in kls * 3:
            lr = host.adjust(torch.tensor(kl), lr)
            if not math.isnan(kl):
                host.update(kl)
            assert float(lr) == host.lr, (start, kl)


def test_tensor_lr_is_set_in_place_and_saved_as_a_float() -> None:
    """set_lr writes the kernel's lr tensor in place; state_dict holds a float; loading keeps the tensor."""
    actor, critic = _nets()
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=1e-2)
    lr_tensor = opt.main.param_groups[0]["lr"]
    assert isinstance(lr_tensor, torch.Tensor)
    opt.set_lr(torch.tensor(3e-4, dtype=torch.float64))
    assert opt.main.param_groups[0]["lr"] is lr_tensor and opt.lr == pytest.approx(3e-4)
    state = opt.state_dict()
    assert state["main"]["param_groups"][0]["lr"] == pytest.approx(3e-4)
    assert isinstance(state["main"]["param_groups"][0]["lr"], float)
    other = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=1e-2)
    kept = other.main.param_groups[0]["lr"]
    other.load_state_dict(state)
    assert other.main.param_groups[0]["lr"] is kept and other.lr == pytest.approx(3e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_optimizer_is_fused_and_steps_like_cpu() -> None:
    """On CUDA the AdamW is fused and capturable; its update matches the CPU (fused) AdamW's."""
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(4))
    results = []
    for device in ("cpu", "cuda"):
        actor, critic = _nets()
        actor, critic = actor.to(device), critic.to(device)
        opt = ActorCriticOptimizer(actor.parameters(), critic.parameters(), lr=1e-2)
        assert opt.main.param_groups[0]["fused"]
        assert opt.main.param_groups[0]["capturable"] == (device == "cuda")
        for _ in range(3):
            opt.zero_grad()
            (actor(x.to(device)).square().sum() + critic(x.to(device)).square().sum()).backward()
            opt.step()
        results.append([p.detach().cpu() for p in [*actor.parameters(), *critic.parameters()]])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_state_saved_by_a_foreach_adamw_loads_into_the_fused_one() -> None:
    """Checkpoints written before the fused CPU optimiser (foreach AdamW, float lr) load: same next update as
    that AdamW makes, the kernel flags and the lr tensor stay this optimiser's."""
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(6))
    actor, critic = _nets()
    params = [*actor.parameters(), *critic.parameters()]
    old = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=True)
    for _ in range(2):
        old.zero_grad()
        (actor(x).square().sum() + critic(x).square().sum()).backward()
        old.step()
    buffer = io.BytesIO()  # through bytes, as a checkpoint does (state_dict() shares tensors)
    torch.save({"main": old.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    actor2, critic2 = _nets()
    actor2.load_state_dict(actor.state_dict())
    critic2.load_state_dict(critic.state_dict())
    opt = ActorCriticOptimizer(actor2.parameters(), critic2.parameters(), lr=5e-3)
    kept = opt.main.param_groups[0]["lr"]
    opt.load_state_dict(saved)
    group = opt.main.param_groups[0]
    assert group["lr"] is kept and opt.lr == pytest.approx(1e-2) and group["fused"] and not group["foreach"]
    for model, o in (((actor, critic), old), ((actor2, critic2), opt)):
        o.zero_grad()
        (model[0](x).square().sum() + model[1](x).square().sum()).backward()
        o.step()
    for a, b in zip(params, opt.parameters, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
