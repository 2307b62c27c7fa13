"""Adaptive sampling by bins (§6.3): counts, probabilities by hand, starts, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from sonic_data.motion_lib import AdaptiveSamplingConfig
from sonic_data.motion_lib.sampling import AdaptiveSampler


def _sampler(lengths: list[int], **kw: object) -> AdaptiveSampler:
    return AdaptiveSampler(
        torch.tensor(lengths), AdaptiveSamplingConfig.model_validate({"bin_size": 10, **kw})
    )


def test_uniform_over_clips_without_failures() -> None:
    """Equal counts: every clip of whole bins gets the same probability whatever its length."""
    s = _sampler([10, 30, 50, 20])
    np.testing.assert_allclose(s.clip_probs().numpy(), 0.25, atol=1e-12)


def test_disabled_is_uniform_over_clips() -> None:
    """With enable=False, clip probabilities are uniform and failures do not change them."""
    s = _sampler([10, 35, 7], enable=False)
    s.record_failures(torch.tensor([1, 1]), torch.tensor([3, 30]))
    s.update()
    np.testing.assert_allclose(s.clip_probs().numpy(), 1 / 3, atol=1e-12)


def test_failures_raise_share_as_specified() -> None:
    """3 clips × 2 bins; 4 failures in clip 0's first bin. By hand: rates r = (5,1,1,1,1,1),
    p = 0.9·r/10 + 0.1/6, equal bin weights → clip 0 gets 0.9·6/10 + 0.2/6."""
    s = _sampler([20, 20, 20])
    s.record_failures(torch.zeros(4, dtype=torch.long), torch.tensor([0, 3, 5, 9]))
    s.update()
    expected0 = 0.9 * 6 / 10 + 0.1 * 2 / 6
    probs = s.clip_probs().numpy()
    assert probs[0] == pytest.approx(expected0, abs=1e-12)
    np.testing.assert_allclose(probs[1:], (1 - expected0) / 2, atol=1e-12)
    assert probs[0] > 1 / 3


def test_failure_rate_clipped_at_mean_times_factor() -> None:
    """A huge failure count is clipped at mean(r)·adp_samp_failure_rate_max_over_mean."""
    s = _sampler([10, 10, 10, 10], adp_samp_failure_rate_max_over_mean=2.0, uniform_sampling_rate=0.0)
    s.record_failures(torch.zeros(1, dtype=torch.long), torch.zeros(1, dtype=torch.long))
    s.failures[0] = 1001.0
    s.update()
    mean = (1001 + 3) / 4
    r = np.array([min(1001, 2 * mean), 1, 1, 1])
    np.testing.assert_allclose(s.clip_probs().numpy(), r / r.sum(), atol=1e-12)


def test_episode_counts_per_step() -> None:
    """Each step adds 1/len_b to its bin; a short last bin gets more per step."""
    s = _sampler([25])  # bins of 10, 10, 5 frames
    s.record_steps(torch.zeros(3, dtype=torch.long), torch.tensor([0, 12, 24]))
    np.testing.assert_allclose(s.episodes.numpy(), [1.1, 1.1, 1.2], atol=1e-12)


def test_sequence_length_agnostic_weights() -> None:
    """A clip with a short last bin still totals the same weight per clip as full clips."""
    s = _sampler([25, 30])
    w = s.bin_weight.numpy()
    mean_len = np.mean([10, 10, 5, 10, 10, 10])
    np.testing.assert_allclose(w, np.array([10, 10, 5, 10, 10, 10]) / mean_len / np.array([3, 3, 3, 3, 3, 3]))


def test_starts_follow_bin_probabilities() -> None:
    """Starts (without the pre-failure shift) land in bins at the bin probabilities (χ² test)."""
    s = _sampler([20, 20, 20], pre_failure_sample_window=1)
    s.record_failures(torch.tensor([2, 2, 2]), torch.tensor([15, 15, 15]))
    s.update()
    gen = torch.Generator().manual_seed(0)
    slots, frames = s.sample_starts(torch.tensor([0, 1, 2]), 20_000, gen)
    bins = (slots * 2 + frames // 10).numpy()
    counts = np.bincount(bins, minlength=6)
    expected = s.bin_probs.numpy() * 20_000
    assert chisquare(counts, expected).pvalue > 1e-3
    assert frames.max() < 20 and frames.min() >= 0


def test_starts_move_back_by_window() -> None:
    """Starts move back by U{0..window−1} frames, clamped at 0."""
    s = _sampler([200, 200], pre_failure_sample_window=30, uniform_sampling_rate=0.0)
    s.failures[:] = 0.0
    s.failures[19] = 1.0  # last bin of clip 0 (frames 190..199)
    s.failures[20] = 1.0  # first bin of clip 1 (frames 0..9)
    s.update()
    gen = torch.Generator().manual_seed(1)
    slots, frames = s.sample_starts(torch.tensor([0, 1]), 8000, gen)
    late, early = frames[slots == 0], frames[slots == 1]
    assert late.min() >= 190 - 29 and late.max() <= 199 and late.min() < 170
    assert early.min() == 0 and early.max() <= 9
    assert (early == 0).float().mean() > 0.5  # most shifts reach below 0 and clamp


def test_duplicate_slots_share_their_clip_bins() -> None:
    """A clip resident in two slots is drawn twice as often (bins per slot)."""
    s = _sampler([10, 10], pre_failure_sample_window=1)
    gen = torch.Generator().manual_seed(2)
    slots, _ = s.sample_starts(torch.tensor([0, 0, 1]), 30_000, gen)
    counts = np.bincount(slots.numpy(), minlength=3)
    assert chisquare(counts, [10_000, 10_000, 10_000]).pvalue > 1e-3


def test_new_resident_set_gets_its_own_bin_layout() -> None:
    """The per-resident-set bin layout is rebuilt for a new slot tensor (a redraw), not reused.

    Reference: a fresh sampler, which has never seen the first resident set, draws the same starts.
    """
    used = _sampler([30, 50, 20], pre_failure_sample_window=1)
    gen = torch.Generator().manual_seed(3)
    used.sample_starts(torch.tensor([0, 1]), 100, gen)
    second = torch.tensor([2, 2, 1])
    state = gen.get_state()
    slots, frames = used.sample_starts(second, 5000, gen)
    fresh = _sampler([30, 50, 20], pre_failure_sample_window=1)
    ref_slots, ref_frames = fresh.sample_starts(second.clone(), 5000, torch.Generator().set_state(state))
    assert torch.equal(slots, ref_slots) and torch.equal(frames, ref_frames)
    assert slots.max() == 2 and (frames < torch.tensor([20, 20, 50])[slots]).all()


def test_state_dict_round_trip_and_mismatch() -> None:
    """Counts survive a round trip; counts of another library are refused."""
    s = _sampler([20, 30])
    s.record_failures(torch.tensor([1]), torch.tensor([25]))
    s.record_steps(torch.tensor([0, 1]), torch.tensor([3, 4]))
    s.update()
    t = _sampler([20, 30])
    t.load_state_dict(s.state_dict())
    np.testing.assert_array_equal(t.failures.numpy(), s.failures.numpy())
    np.testing.assert_allclose(t.clip_probs().numpy(), s.clip_probs().numpy())
    with pytest.raises(ValueError, match="other lengths"):
        _sampler([20, 31]).load_state_dict(s.state_dict())


def test_decay_pulls_counts_back_to_init() -> None:
    """use_failure_rate_decay: counts above the initial value shrink by decay_gamma per update."""
    s = _sampler([10], use_failure_rate_decay=True, decay_gamma=0.5)
    s.record_failures(torch.zeros(1, dtype=torch.long), torch.zeros(1, dtype=torch.long))
    s.update()
    assert s.failures[0].item() == pytest.approx(1.5)


@pytest.mark.parametrize("decay", [False, True])
def test_counts_and_probabilities_are_updated_in_place(decay: bool) -> None:
    """update / set_counts / load_state_dict never replace the tensors (a CUDA graph reads them by address).

    Decay by hand: ``init + (f - init)·γ`` of the recorded failure count.
    """
    s = _sampler([20, 20, 20], use_failure_rate_decay=decay, decay_gamma=0.5)
    ptrs = (s.failures.data_ptr(), s.episodes.data_ptr(), s.bin_probs.data_ptr())
    init = s.cfg.init_num_failures
    s.record_failures(torch.zeros(4, dtype=torch.long), torch.tensor([0, 3, 5, 9]))
    added = float(s.failures[0]) - init
    s.update()
    expected = init + added * (0.5 if decay else 1.0)
    assert float(s.failures[0]) == pytest.approx(expected, rel=1e-12)
    state = s.state_dict()
    s.set_counts(s.failures * 2, s.episodes * 2)
    s.load_state_dict(state)
    assert float(s.failures[0]) == pytest.approx(expected, rel=1e-12)
    assert (s.failures.data_ptr(), s.episodes.data_ptr(), s.bin_probs.data_ptr()) == ptrs
    with pytest.raises(ValueError, match="failures has shape"):
        s.set_counts(torch.zeros(2, dtype=torch.float64), s.episodes)
