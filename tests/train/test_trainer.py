"""Trainer pieces without a simulator: the Learner (normaliser, returns, PPO update with aux losses, std
clamp), per-iteration metrics, run folders and FSQ usage, on tensors shaped by the small preset's contract."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from sonic_model import RunningMeanStd, UniversalTokenPolicy
from sonic_model import preset as model_preset
from sonic_train.algo import PPOConfig, RolloutStorage
from sonic_train.checkpoints import checkpoint_name, make_run_dir
from sonic_train.config import exp_preset
from sonic_train.dist import DistContext
from sonic_train.learner import Learner
from sonic_train.metrics import RolloutMetrics
from sonic_train.trainer import Trainer, codebook_usage

STEPS, ENVS = 3, 4


def _obs(policy: UniversalTokenPolicy, gen: torch.Generator, mask: torch.Tensor) -> dict:
    contract = policy.contract
    terms = {
        t.name: torch.randn(ENVS, *t.shape, generator=gen)
        for t in contract.tokenizer
        if not t.file_only and t.name != "encoder_index"
    }
    terms["encoder_index"] = mask
    return {
        "tokenizer": terms,
        "policy": torch.randn(ENVS, contract.proprioception_width, generator=gen),
        "critic": 3.0 + 2.0 * torch.randn(ENVS, contract.critic_width, generator=gen),
    }


def _rollout(policy: UniversalTokenPolicy, seed: int = 0) -> RolloutStorage:
    """A full rollout of random observations, actions drawn by the policy, random rewards and dones."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 1], [1, 0, 1]], dtype=torch.bool)
    storage = RolloutStorage(STEPS, ENVS, policy.num_actions, _obs(policy, gen, mask), "cpu")
    for _ in range(STEPS):
        obs = _obs(policy, gen, mask)
        terms = obs["tokenizer"]
        act = policy.act(terms, terms["encoder_index"], obs["policy"])
        dones = torch.rand(ENVS, generator=gen) < 0.3
        storage.add(
            obs, act.actions, act.log_prob, act.mean, torch.rand(ENVS, generator=gen), dones, dones & False
        )
    storage.set_action_std(policy.std)
    return storage


def _policy(seed: int = 0) -> UniversalTokenPolicy:
    torch.manual_seed(seed)
    small = model_preset("small")
    return UniversalTokenPolicy(small.model, small.contract)


def _ppo(**change: object) -> PPOConfig:
    return PPOConfig.model_validate({"num_mini_batches": 2, "num_learning_epochs": 2} | change)


def test_normalizer_update_equals_one_update_over_the_whole_rollout() -> None:
    """The learner's (all-reduce-ready) sums give the same statistics as RunningMeanStd.update on (T·N, D)."""
    policy = _policy()
    storage = _rollout(policy)
    Learner(policy, _ppo(), DistContext()).update_normalizer(storage.observations["critic"])
    reference = RunningMeanStd(policy.contract.critic_width)
    reference.update(storage.observations["critic"].reshape(STEPS * ENVS, -1))
    assert policy.critic is not None
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(
            policy.critic.normalizer.state_dict()[name], tensor, rtol=1e-12, atol=1e-12
        )


def test_returns_are_gae_and_advantages_are_whitened() -> None:
    """returns − values follow the GAE recursion (hand loop here); advantages come out mean 0, std 1."""
    policy = _policy()
    storage = _rollout(policy)
    learner = Learner(policy, _ppo(gamma=0.9, lam=0.8), DistContext())
    last_obs = torch.randn(ENVS, policy.contract.critic_width)
    learner.compute_returns(storage, last_obs)
    with torch.no_grad():
        values = policy.value(storage.observations["critic"].reshape(STEPS * ENVS, -1)).reshape(STEPS, ENVS)
        next_value = policy.value(last_obs).reshape(ENVS)
    adv = torch.zeros(ENVS)
    expected = torch.zeros(STEPS, ENVS)
    for t in reversed(range(STEPS)):
        keep = 1.0 - storage.dones[t].float()
        delta = storage.rewards[t] + 0.9 * keep * next_value - values[t]
        adv = delta + 0.9 * 0.8 * keep * adv
        expected[t] = adv
        next_value = values[t]
    torch.testing.assert_close(storage.returns - storage.values, expected, rtol=1e-5, atol=1e-6)
    assert abs(float(storage.advantages.mean())) < 1e-6
    assert float(storage.advantages.std()) == pytest.approx(1.0, abs=1e-5)


def _encoder_change(aux_scale: float) -> float:
    """Largest encoder-weight change of one update with zero advantages and no entropy bonus."""
    policy = _policy()
    storage = _rollout(policy)
    learner = Learner(policy, _ppo(entropy_coef=0.0, aux_loss_scale=aux_scale), DistContext())
    learner.compute_returns(storage, torch.zeros(ENVS, policy.contract.critic_width))
    storage.advantages.zero_()  # no policy gradient: only aux losses can reach the encoders
    before = {k: v.clone() for k, v in policy.encoders.state_dict().items()}
    learner.update(storage)
    return max(float((policy.encoders.state_dict()[k] - v).abs().max()) for k, v in before.items())


def test_aux_losses_train_the_encoders_with_their_scale() -> None:
    """With advantages 0, encoders move only through the aux losses: not at all with aux_loss_scale 0."""
    assert _encoder_change(aux_scale=0.0) == 0.0
    assert _encoder_change(aux_scale=1.0) > 0.0


def test_update_clamps_std_and_reports_aux_losses() -> None:
    """std is clamped into [std_clamp_min, std_clamp_max] after the steps; every aux loss is reported."""
    policy = _policy()
    storage = _rollout(policy)
    with torch.no_grad():
        policy.std.fill_(0.9)  # above std_clamp_max 0.5
    learner = Learner(policy, _ppo(), DistContext())
    learner.compute_returns(storage, torch.zeros(ENVS, policy.contract.critic_width))
    stats = learner.update(storage)
    assert float(policy.std.max()) <= 0.5
    assert set(stats.aux) == {
        "g1_recon", "g1_smpl_latent", "g1_teleop_latent", "teleop_smpl_latent", "reencoded_smpl_g1_latent",
    }  # fmt: skip
    assert stats.skipped_steps == 0 and float(stats.kl) >= 0.0


def test_metrics_average_episodes_and_count_each_log_once() -> None:
    """Episode/length averages the finished episodes; a log dict seen twice counts once; per-step reward mean."""
    metrics = RolloutMetrics(2, "cpu", ["Episode_Reward/a"])
    log = {"Episode_Reward/a": torch.tensor(2.0)}
    errors = {"rewards/anchor_pos_err": torch.tensor([0.1, 0.3])}
    metrics.record(torch.tensor([1.0, 2.0]), torch.tensor([False, False]), errors, {})
    metrics.record(torch.tensor([1.0, 2.0]), torch.tensor([True, False]), errors, {"log": log})
    metrics.record(torch.tensor([1.0, 2.0]), torch.tensor([False, True]), errors, {"log": log})
    means = metrics.reduce(DistContext())
    assert means["Episode/length"] == pytest.approx((2 + 3) / 2)
    assert means["Episode_Reward/a"] == pytest.approx(2.0)
    assert means["rewards/total"] == pytest.approx(1.5)
    assert means["rewards/anchor_pos_err"] == pytest.approx(0.2)
    assert "rewards/body_pos_err" not in means  # never reported: left out, not zero


def test_metrics_count_an_in_place_log_at_the_steps_that_reset_some_env() -> None:
    """The graphed env's one log dict (refreshed in place) counts only where ``log_resets`` > 0."""
    metrics = RolloutMetrics(2, "cpu", ["Episode_Reward/a"])
    held = torch.zeros(1)
    extras = {"log": {"Episode_Reward/a": held[0]}, "log_resets": torch.tensor(0.0)}
    no_errors: dict[str, torch.Tensor] = {}
    for value, resets in ((5.0, 0.0), (2.0, 1.0), (2.0, 0.0), (4.0, 2.0), (4.0, 0.0)):
        held[0] = value
        extras["log_resets"].fill_(resets)
        metrics.record(torch.zeros(2), torch.tensor([False, False]), no_errors, extras)
    assert metrics.reduce(DistContext())["Episode_Reward/a"] == pytest.approx((2.0 + 4.0) / 2)


def test_run_folders_never_collide(tmp_path: Path) -> None:
    """Two runs started in the same second get different folders (…_2); checkpoint names have 6 digits."""
    config = exp_preset("small").model_copy(update={"base_dir": str(tmp_path)})
    now = time.time()
    first, second = make_run_dir(config, now), make_run_dir(config, now)
    assert first != second and second.name == f"{first.name}_2"
    assert first.parent == tmp_path / "TRL_G1_Track"
    assert checkpoint_name(2000) == "model_step_002000.pt"


def test_codebook_usage_only_for_active_encoders() -> None:
    """FSQ usage is reported for encoders that some env activates, and lies in (0, 1]."""
    policy = _policy()
    obs = _obs(
        policy, torch.Generator().manual_seed(1), torch.tensor([[1, 0, 0]] * 2 + [[1, 1, 0]] * 2).bool()
    )
    usage = codebook_usage(policy, obs["tokenizer"])
    assert set(usage) == {"g1", "teleop"}
    assert all(0 < float(u.per_dim_usage.max()) <= 1 for u in usage.values())


def test_bf16_autocasts_the_learning_forward_only() -> None:
    """bf16=True: evaluate's matmuls run in bf16 (its mean comes out bf16), the step stays finite and fp32."""
    policy = _policy()
    storage = _rollout(policy)
    learner = Learner(policy, _ppo(), DistContext(), bf16=True)
    learner.compute_returns(storage, torch.zeros(ENVS, policy.contract.critic_width))
    dtypes: list[torch.dtype] = []
    evaluate = policy.evaluate

    def spy(*args: object, **kwargs: object):  # noqa: ANN202
        out = evaluate(*args, **kwargs)  # pyright: ignore[reportArgumentType]
        dtypes.append(out.mean.dtype)
        return out

    policy.evaluate = spy  # pyright: ignore[reportAttributeAccessIssue]
    stats = learner.update(storage)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert stats.skipped_steps == 0 and torch.isfinite(stats.surrogate)
    assert all(p.dtype == torch.float32 for p in policy.parameters())
    learner32 = Learner(_policy(), _ppo(), DistContext())
    assert not learner32.bf16


def test_max_train_time_ends_the_loop_and_saves_last() -> None:
    """max_train_time_s: the loop stops at the first iteration ending past the budget and writes last.pt."""
    trainer = Trainer.__new__(Trainer)  # the loop alone; collect/learn/... are test doubles
    trainer.config = exp_preset("small").model_copy(update={"max_train_time_s": 0.05})
    trainer.ppo = trainer.config.algo.config
    trainer.ctx, trainer.device, trainer.console = DistContext(), "cpu", None
    trainer.iteration = trainer.start_iteration = 0
    saves: list[bool] = []
    trainer.collect = lambda: time.sleep(0.02)  # type: ignore[method-assign]
    trainer.learn = lambda: None  # type: ignore[method-assign,assignment]
    trainer.after_iteration = lambda: None  # type: ignore[method-assign]
    trainer.log = lambda stats, seconds: None  # type: ignore[method-assign]
    trainer.maybe_save = lambda final=False: saves.append(final)  # type: ignore[method-assign]
    done = trainer.train()
    assert 3 <= done <= 4 < trainer.ppo.num_learning_iterations  # 3 x 20 ms >= 50 ms
    assert saves[-1] is True and trainer._phase_s[0] >= 0.02
    trainer.config = trainer.config.model_copy(update={"max_train_time_s": None})
    assert trainer.train(until=done + 2) == done + 2  # no budget: runs to `until`


def _reference_update(learner: Learner, storage: RolloutStorage) -> list[float]:
    """The PPO epochs written plainly (the host schedule and a Python skip): the reference of Learner.update.

    Returns the lr after every minibatch."""
    from sonic_model import compute_aux_losses
    from sonic_train.algo import clip_grad_norm, gaussian_kl, ppo_loss

    ppo, policy = learner.ppo, learner.policy
    assert learner.schedule is not None
    lrs = []
    for batch in storage.minibatches(ppo.num_mini_batches, ppo.num_learning_epochs, learner.generator):
        terms, proprio, critic = (batch.observations[k] for k in ("tokenizer", "policy", "critic"))
        assert (
            isinstance(terms, dict) and isinstance(proprio, torch.Tensor) and isinstance(critic, torch.Tensor)
        )
        out = policy.evaluate(terms, terms["encoder_index"], proprio, batch.actions, critic)
        assert out.value is not None
        kl = float(gaussian_kl(batch.old_action_mean, batch.old_action_std, out.mean, out.std).mean())
        learner.optimizer.set_lr(learner.schedule.update(kl))
        lrs.append(learner.schedule.lr)
        aux = compute_aux_losses(out, policy.encoder_names, policy.config.aux)
        loss = ppo_loss(
            new_log_probs=out.log_prob, old_log_probs=batch.old_log_probs, advantages=batch.advantages,
            values=out.value.reshape(-1), old_values=batch.old_values, returns=batch.returns,
            entropy=out.entropy, clip=ppo.clip_param, value_clip=ppo.value_clip_param,
            use_clipped_value_loss=ppo.use_clipped_value_loss, vf_coef=ppo.value_loss_coef,
            entropy_coef=ppo.entropy_coef, aux_losses=aux, aux_coefs=learner.aux_coefs,
            aux_scale=ppo.aux_loss_scale,
        ).total  # fmt: skip
        learner.optimizer.zero_grad()
        loss.backward()
        _, finite = clip_grad_norm(learner.optimizer.parameters, ppo.max_grad_norm)
        if bool(finite):
            learner.optimizer.step()
        policy.clamp_std_()
    return lrs


def _learner_pair(**ppo_change: object) -> tuple[list[Learner], RolloutStorage]:
    learners = []
    for _ in range(2):
        policy = _policy()
        learners.append(
            Learner(policy, _ppo(num_learning_epochs=3, desired_kl=1e-4, **ppo_change), DistContext())
        )
    storage = _rollout(learners[0].policy)
    learners[0].compute_returns(storage, torch.zeros(ENVS, learners[0].policy.contract.critic_width))
    return learners, storage


def test_update_on_the_device_equals_the_plain_loop() -> None:
    """Learner.update (lr on the device, fused skip, one host read per update) moves the parameters and the
    lr exactly as the plain loop with the host schedule does; the lr does move (desired_kl is small)."""
    (learner, reference), storage = _learner_pair()
    stats = learner.update(storage)
    lrs = _reference_update(reference, storage)
    assert len(set(lrs)) > 1 and stats.lr == lrs[-1] == learner.lr == learner.schedule.lr  # pyright: ignore[reportOptionalMemberAccess]
    for a, b in zip(learner.policy.parameters(), reference.policy.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


class ReplayByRerunning:
    """Graph backend double (CPU has no CUDA graphs): a "capture" runs the segment, a "replay" runs it again and
    writes its results into the captured output tensors, as a CUDA graph refreshes them in place."""

    def __init__(self) -> None:
        self.captures = 0
        self.replays = 0

    def capture(self, fn):  # noqa: ANN001, ANN201
        self.captures += 1
        out = fn()
        return (fn, out), out

    def replay(self, handle) -> None:  # noqa: ANN001
        self.replays += 1
        fn, out = handle
        fresh = fn()
        if out is not None:
            for key, value in out.items():
                value.copy_(fresh[key])

    def reset(self) -> None:
        pass


def test_graphed_update_sequence_equals_eager_updates() -> None:
    """The update as segments (static env-id buffer, in-place sums, replayed by re-running) gives the eager
    update's parameters, lr and statistics over two updates; both segments are captured once, then replayed."""
    (eager, _), storage = _learner_pair()
    backend = ReplayByRerunning()
    graphed = Learner(_policy(), eager.ppo, DistContext(), graph_backend=backend)
    for _ in range(2):
        a, b = eager.update(storage), graphed.update(storage)
        assert (a.lr, a.skipped_steps) == (b.lr, b.skipped_steps)
        for x, y in zip(
            [a.surrogate, a.value, a.kl, a.grad_norm], [b.surrogate, b.value, b.kl, b.grad_norm], strict=True
        ):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert backend.captures == 2 and backend.replays == 2 * (
        2 * 3 * 2 - 3
    )  # 12 minibatches: 2 eager, 1 capture
    for x, y in zip(eager.policy.parameters(), graphed.policy.parameters(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_nan_kl_skips_every_step_and_raises_after_the_update() -> None:
    """A NaN rollout mean gives a NaN KL in every minibatch: none makes a step, and update() raises after."""
    (learner, _), storage = _learner_pair()
    storage.action_mean[0, :, 0] = float("nan")
    before = [p.detach().clone() for p in learner.policy.parameters()]
    with pytest.raises(ValueError, match="NaN KL in 6 of 6 minibatches"):
        learner.update(storage)
    for p, b in zip(learner.policy.parameters(), before, strict=True):
        assert torch.equal(p.detach(), b)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphed_update_matches_eager_on_the_gpu() -> None:
    """Real CUDA graphs: two updates (12 minibatches, 2 captured segments) end where the eager updates end."""
    storage = _rollout(_policy())
    storage.observations = {k: v.cuda() for k, v in storage.observations.items()}
    for name in ("actions", "action_mean", "action_std", "rewards", "dones", "time_outs", "log_probs"):
        setattr(storage, name, getattr(storage, name).cuda())
    storage.device = torch.device("cuda")
    for name in ("values", "returns", "advantages"):
        setattr(storage, name, getattr(storage, name).cuda())
    learners = []
    for graphs in (False, True):
        learner = Learner(_policy().cuda(), _ppo(num_learning_epochs=3), DistContext(), cuda_graphs=graphs)
        learner.compute_returns(
            storage, torch.zeros(ENVS, learner.policy.contract.critic_width, device="cuda")
        )
        for _ in range(2):
            learner.update(storage)
        learners.append(learner)
    eager, graphed = learners
    assert graphed.graphs is not None and graphed.graphs.captures == 2
    assert graphed.lr == pytest.approx(eager.lr, rel=1e-6)
    for a, b in zip(eager.policy.parameters(), graphed.policy.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
