"""Named model presets: a :class:`ModelConfig` plus the :class:`ObservationContract` it reads.

* ``sonic_release``: SONIC's released model (g1, teleop, smpl encoders), ≈37.4M parameters.
* ``sonic_bones_seed``: adds the soma encoder and the ``g1_soma_latent`` loss; 4096-wide ``g1_dyn`` and
  critic (SONIC_REFERENCE §1.2).
* ``single_gpu``: ``sonic_release``'s contract and token with ≈4.6× fewer parameters, so that one GPU learns
  the sample motions in minutes (issue 16's recipe; sizes chosen for speed, see :func:`single_gpu`).
* ``small`` / ``small_bones_seed``: the same contracts, token size (2 x 32, FSQ [32] * 32) and layout
  with narrow hidden layers, for CPU tests and demos; their exports keep SONIC's file widths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sonic_model.config import AuxLossConfig, ModelConfig
from sonic_model.contract import ObservationContract
from sonic_model.g1_contracts import sonic_bones_seed_contract, sonic_release_contract

_WIDE = (4096, 4096, 2048, 2048, 1024, 1024, 512, 512)
_SMALL = {
    "encoder_hidden": (64, 32),
    "g1_dyn_hidden": (64, 64),
    "g1_kin_hidden": (64,),
    "critic_hidden": (64, 64),
}
_SINGLE_GPU = {
    "encoder_hidden": (1024, 512),
    "g1_dyn_hidden": (1024, 512, 256),
    "g1_kin_hidden": (512, 512),
    "critic_hidden": (1024, 512, 256),
}
_BONES_SEED_ENCODERS = ("g1", "teleop", "smpl", "soma")


@dataclass(frozen=True)
class Preset:
    """A preset's name, model configuration and observation contract."""

    name: str
    model: ModelConfig
    contract: ObservationContract


def sonic_release() -> Preset:
    """SONIC's ``sonic_release`` network (SONIC_REFERENCE §9.1)."""
    return Preset("sonic_release", ModelConfig(), sonic_release_contract())


def sonic_bones_seed() -> Preset:
    """SONIC's ``sonic_bones_seed`` network: + soma encoder, 4096-wide action decoder and critic."""
    model = ModelConfig(
        encoders=_BONES_SEED_ENCODERS,
        g1_dyn_hidden=_WIDE,
        critic_hidden=_WIDE,
        aux=AuxLossConfig(g1_soma_latent=1.0),
    )
    return Preset("sonic_bones_seed", model, sonic_bones_seed_contract())


def single_gpu() -> Preset:
    """``sonic_release``'s contract, token (2 x 32, FSQ [32] * 32) and aux losses with narrower, shallower layers.

    Encoders 2048-1024-512-512 -> 1024-512, action decoder 2048-2048-1024-1024-512-512 -> 1024-512-256,
    kinematic decoder -> 512-512, critic -> 1024-512-256 (≈8.1M parameters instead of 37.4M): a PPO
    iteration's learning phase is then a small share of the rollout's time on one GPU, and the exported ONNX
    files keep SONIC's input and output widths.
    """
    return Preset("single_gpu", ModelConfig(**_SINGLE_GPU), sonic_release_contract())


def small() -> Preset:
    """``sonic_release``'s layout with narrow layers (CPU)."""
    return Preset("small", ModelConfig(**_SMALL), sonic_release_contract())


def small_bones_seed() -> Preset:
    """``sonic_bones_seed``'s layout with narrow layers (CPU)."""
    model = ModelConfig(encoders=_BONES_SEED_ENCODERS, aux=AuxLossConfig(g1_soma_latent=1.0), **_SMALL)
    return Preset("small_bones_seed", model, sonic_bones_seed_contract())


PRESETS: dict[str, Callable[[], Preset]] = {
    "sonic_release": sonic_release,
    "sonic_bones_seed": sonic_bones_seed,
    "single_gpu": single_gpu,
    "small": small,
    "small_bones_seed": small_bones_seed,
}


def preset(name: str) -> Preset:
    """The preset called ``name``; KeyError listing the valid names otherwise."""
    if name not in PRESETS:
        raise KeyError(f"unknown model preset {name!r}; valid: {sorted(PRESETS)}")
    return PRESETS[name]()


def format_parameter_counts(counts: dict[str, int]) -> str:
    """One line per part, in millions, e.g. ``encoder/g1  4.231M``."""
    width = max(len(k) for k in counts)
    return "\n".join(f"{k:<{width}}  {v / 1e6:8.3f}M" for k, v in counts.items())
