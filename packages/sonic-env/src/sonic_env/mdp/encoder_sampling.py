"""Which encoders are active in an episode: SONIC's per-reset draw with co-activation (SONIC_REFERENCE §1.3).

Per reset, each env draws one encoder from the probabilities normalised over the contract's encoder
order (g1, teleop, smpl[, soma]), after setting smpl to 0 for clips without SMPL data and soma to 0
for clips without SOMA data. Then (SONIC's legacy path) a drawn smpl also activates g1, and teleop
with probability ``teleop_prob_when_smpl``; a drawn soma also activates g1. The mask is therefore
multi-hot; the last active encoder in the order drives the action (FORMATS.md "Policy border"), so
the drawn encoder does, and the extra activations only feed the latent-alignment losses.

Resulting marginals for sonic_release (all 1.0): a clip with SMPL drives g1, teleop and smpl 1/3 each;
a clip without SMPL drives g1 and teleop 1/2 each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor


def encoder_probabilities(
    base: Tensor, encoder_names: Sequence[str], has_smpl: Tensor, has_soma: Tensor
) -> Tensor:
    """Per-env normalised probabilities with absent modalities set to 0.

    Args:
        base: ``(E,)`` unnormalised probabilities in ``encoder_names`` order.
        encoder_names: the contract's encoder order.
        has_smpl: ``(N,)`` bool, whether each env's clip has SMPL data.
        has_soma: ``(N,)`` bool, whether each env's clip has SOMA data.

    Returns:
        ``(N, E)`` rows summing to 1. A row whose every available encoder has probability 0 falls back
        to ``base`` renormalised (only reachable with a forced encoder on an augmented clip).
    """
    n = has_smpl.shape[0]
    probs = base.to(has_smpl.device, torch.float64).expand(n, -1).clone()
    for name, has in (("smpl", has_smpl), ("soma", has_soma)):
        if name in encoder_names:
            col = list(encoder_names).index(name)
            probs[:, col] = torch.where(has, probs[:, col], torch.zeros_like(probs[:, col]))
    total = probs.sum(-1, keepdim=True)
    fallback = base.to(probs).expand_as(probs)
    probs = torch.where(total > 0, probs, fallback)
    return probs / probs.sum(-1, keepdim=True)


def sample_encoder_mask(
    probs: Tensor,
    encoder_names: Sequence[str],
    *,
    teleop_prob_when_smpl: float = 0.5,
    coactivate: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw one encoder per env and add SONIC's co-activations.

    Args:
        probs: ``(N, E)`` normalised probabilities (:func:`encoder_probabilities`).
        encoder_names: column names, e.g. ``("g1", "teleop", "smpl")``.
        teleop_prob_when_smpl: chance that teleop joins a drawn smpl.
        coactivate: False gives the one-hot draw only (a forced encoder).
        generator: random source on ``probs``' device.

    Returns:
        ``(N, E)`` bool mask.
    """
    names = list(encoder_names)
    drawn = torch.multinomial(probs.float(), 1, generator=generator).squeeze(-1)
    mask = torch.zeros(probs.shape, dtype=torch.bool, device=probs.device)
    mask.scatter_(1, drawn.unsqueeze(-1), True)
    if not coactivate:
        return mask
    g1 = names.index("g1") if "g1" in names else None
    teleop = names.index("teleop") if "teleop" in names else None
    if "smpl" in names:
        smpl_drawn = drawn == names.index("smpl")
        if g1 is not None:
            mask[:, g1] |= smpl_drawn
        if teleop is not None:
            coin = torch.rand(drawn.shape, generator=generator, device=probs.device) < teleop_prob_when_smpl
            mask[:, teleop] |= smpl_drawn & coin
    if "soma" in names and g1 is not None:
        mask[:, g1] |= drawn == names.index("soma")
    return mask


def base_probabilities(
    encoder_names: Sequence[str], sample_probs: Mapping[str, float] | None, use_encoder: str | None
) -> Tensor:
    """``(E,)`` unnormalised probabilities in ``encoder_names`` order from the config fields.

    Args:
        encoder_names: the contract's encoders.
        sample_probs: ``encoder_sample_probs``; None means 1.0 for every encoder.
        use_encoder: a forced encoder (the others get 0) or None.

    Raises:
        ValueError: if ``sample_probs`` does not name exactly the contract's encoders, or ``use_encoder``
            is not one of them.
    """
    names = list(encoder_names)
    if sample_probs is None:
        values = [1.0] * len(names)
    else:
        if sorted(sample_probs) != sorted(names):
            raise ValueError(
                f"commands.motion.encoder_sample_probs names {sorted(sample_probs)}, but the contract's encoders "
                f"are {names}"
            )
        values = [float(sample_probs[n]) for n in names]
    if use_encoder is not None:
        if use_encoder not in names:
            raise ValueError(
                f"commands.motion.use_encoder={use_encoder!r} is not among the contract's encoders {names}"
            )
        values = [1.0 if n == use_encoder else 0.0 for n in names]
    return torch.tensor(values, dtype=torch.float64)
