"""GEAR-SONIC checkpoint import on synthetic state dicts built from SONIC_REFERENCE §12's key names and
§9.1's layer sizes (the key layout itself is assumed; no real GEAR-SONIC checkpoint is available)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from sonic_data import g1
from sonic_model import UniversalTokenPolicy, load_policy, policy_from_checkpoint, preset
from sonic_train.checkpoint_io import load_checkpoint
from sonic_train.convert_cli import main as convert_main
from sonic_train.gear_sonic import (
    GearSonicImportError,
    convert_gear_sonic,
    convert_gear_sonic_file,
    import_gear_sonic,
    infer_preset,
)

# SONIC_REFERENCE §9.1, typed in: encoder input widths, latent 2 x 32, proprio 930, g1_kin out 640, critic in 1645.
ENCODER_IN = {"g1": 640, "teleop": 267, "smpl": 840, "soma": 900}
LATENT, PROPRIO, KIN_OUT, CRITIC_IN, ACTIONS = 64, 930, 640, 1645, 29
SONIC_ENCODER = (2048, 1024, 512, 512)
SONIC_DYN = (2048, 2048, 1024, 1024, 512, 512)
WIDE = (4096, 4096, 2048, 2048, 1024, 1024, 512, 512)
SMALL = {"enc": (64, 32), "dyn": (64, 64), "kin": (64,), "critic": (64, 64)}  # sonic_model's "small" widths

Make = Callable[..., Tensor]


def _random(seed: int = 0) -> Make:
    gen = torch.Generator().manual_seed(seed)
    return lambda *shape: 0.1 * torch.randn(*shape, generator=gen)


def _meta(*shape: int) -> Tensor:
    return torch.empty(*shape, device="meta")


def _positive(t: Tensor) -> Tensor:
    """Data made positive; meta tensors pass through (ops on them would import torch's decompositions)."""
    return t if t.is_meta else t.abs() + 0.05


def _mlp(prefix: str, dims: Sequence[int], make: Make) -> dict[str, Tensor]:
    """§12 naming: Linear layers of an nn.Sequential at module.0, module.2, ..."""
    out: dict[str, Tensor] = {}
    for j, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        out[f"{prefix}.module.{2 * j}.weight"] = make(b, a)
        out[f"{prefix}.module.{2 * j}.bias"] = make(b)
    return out


def gear_sonic_dict(
    encoders: Sequence[str],
    enc: Sequence[int],
    dyn: Sequence[int],
    kin: Sequence[int],
    critic: Sequence[int],
    make: Make,
    fsq_buffers: bool = True,
) -> dict[str, dict[str, Tensor]]:
    """A GEAR-SONIC ``{policy_state_dict, value_state_dict}`` with the given hidden widths."""
    policy = {"std": _positive(make(ACTIONS))}
    for name in encoders:
        policy |= _mlp(f"actor_module.encoders.{name}", [ENCODER_IN[name], *enc, LATENT], make)
    policy |= _mlp("actor_module.decoders.g1_dyn", [LATENT + PROPRIO, *dyn, ACTIONS], make)
    policy |= _mlp("actor_module.decoders.g1_kin", [LATENT, *kin, KIN_OUT], make)
    if fsq_buffers:
        policy["actor_module.quantizer._levels"] = torch.full((32,), 32, dtype=torch.int32)
        policy["actor_module.quantizer._basis"] = torch.ones(32, dtype=torch.int64)
    value = _mlp("critic_module", [CRITIC_IN, *critic, 1], make)
    value["running_mean_std.running_mean"] = make(CRITIC_IN).double()
    value["running_mean_std.running_var"] = _positive(make(CRITIC_IN).double())
    value["running_mean_std.count"] = torch.tensor(1234.0, dtype=torch.float64)
    return {"policy_state_dict": policy, "value_state_dict": value}


def small_dict(
    encoders: Sequence[str] = ("g1", "teleop", "smpl"), seed: int = 0
) -> dict[str, dict[str, Tensor]]:
    return gear_sonic_dict(encoders, SMALL["enc"], SMALL["dyn"], SMALL["kin"], SMALL["critic"], _random(seed))


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


@torch.no_grad()
def hand_copied(raw: dict[str, dict[str, Tensor]], preset_name: str) -> UniversalTokenPolicy:
    """A fresh policy whose Linear layers get the file's tensors one by one, in layer order."""
    p = preset(preset_name)
    policy = UniversalTokenPolicy(p.model, p.contract)
    ps, vs = raw["policy_state_dict"], raw["value_state_dict"]
    groups = [(policy.encoders[n], f"actor_module.encoders.{n}", ps) for n in p.model.encoders]
    groups += [(policy.decoders[n], f"actor_module.decoders.{n}", ps) for n in ("g1_dyn", "g1_kin")]
    assert policy.critic is not None
    groups.append((policy.critic, "critic_module", vs))
    for module, prefix, sd in groups:
        for j, lin in enumerate(_linears(module)):
            lin.weight.copy_(sd[f"{prefix}.module.{2 * j}.weight"])
            lin.bias.copy_(sd[f"{prefix}.module.{2 * j}.bias"])
    policy.std.copy_(ps["std"])
    norm = policy.critic.normalizer
    norm.running_mean.copy_(vs["running_mean_std.running_mean"])
    norm.running_var.copy_(vs["running_mean_std.running_var"])
    norm.count.copy_(vs["running_mean_std.count"])
    return policy


def _inputs(policy: UniversalTokenPolicy, n: int = 6) -> tuple[dict[str, Tensor], Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(1)
    c = policy.contract
    terms = {t.name: torch.randn(n, *t.shape, generator=gen) for t in c.tokenizer if not t.file_only}
    mask = torch.rand(n, len(c.encoder_names), generator=gen) > 0.4
    mask[:, 0] |= ~mask.any(dim=1)
    return (
        terms,
        mask,
        torch.randn(n, c.proprioception_width, generator=gen),
        torch.randn(n, c.critic_width, generator=gen),
    )


def _assert_same_outputs(a: UniversalTokenPolicy, b: UniversalTokenPolicy) -> None:
    terms, mask, proprio, critic_obs = _inputs(a)
    assert torch.equal(a.act_inference(terms, mask, proprio), b.act_inference(terms, mask, proprio))
    assert torch.equal(a.value(critic_obs), b.value(critic_obs))
    assert torch.equal(a.std, b.std)


def test_converted_file_loads_and_acts_like_hand_copied_weights(tmp_path: Path) -> None:
    """Convert -> write -> load_policy gives the same actions and values as weights copied layer by layer."""
    raw = small_dict()
    src = tmp_path / "last.pt"
    torch.save(raw, src)
    result = convert_gear_sonic_file(src, tmp_path / "ours.pt", preset="small")
    assert result.preset == "small" and result.preset_reason == "given explicitly"
    assert sorted(result.ignored_keys) == [
        "policy_state_dict['actor_module.quantizer._basis']",
        "policy_state_dict['actor_module.quantizer._levels']",
    ]
    loaded = load_policy(tmp_path / "ours.pt", expected_config=preset("small").model, with_critic=True)
    reference = hand_copied(raw, "small")
    _assert_same_outputs(loaded.policy, reference)
    fresh = UniversalTokenPolicy(preset("small").model, preset("small").contract)  # negative control
    terms, mask, proprio, _ = _inputs(fresh)
    assert not torch.allclose(
        fresh.act_inference(terms, mask, proprio), reference.act_inference(terms, mask, proprio)
    )
    assert loaded.policy_io.joint_names == g1.ISAACLAB_JOINT_NAMES
    load_checkpoint(tmp_path / "ours.pt")  # sonic-train's own format check accepts it too


def test_bones_seed_layout_is_inferred_from_the_soma_encoder_with_the_files_widths() -> None:
    """A soma encoder selects sonic_bones_seed's layout; hidden widths (here small ones) come from the file."""
    raw = small_dict(("g1", "teleop", "smpl", "soma"), seed=3)
    result = convert_gear_sonic(raw)
    assert result.preset == "sonic_bones_seed" and "soma" in result.preset_reason
    assert result.model_config.encoder_hidden == SMALL["enc"]
    assert result.model_config.critic_hidden == SMALL["critic"]
    assert result.model_config.aux.g1_soma_latent == 1.0
    loaded = policy_from_checkpoint(result.checkpoint, with_critic=True)
    _assert_same_outputs(loaded.policy, hand_copied(raw, "small_bones_seed"))


def test_release_is_inferred_from_full_size_shapes_without_data() -> None:
    """At SONIC's real sizes (meta tensors, nothing allocated) the release preset and its widths come out."""
    raw = gear_sonic_dict(
        ("g1", "teleop", "smpl"), SONIC_ENCODER, SONIC_DYN, SONIC_ENCODER, SONIC_DYN, _meta, False
    )
    assert infer_preset(raw["policy_state_dict"])[0] == "sonic_release"
    result = convert_gear_sonic(raw)
    assert result.preset == "sonic_release"
    for field in ("encoders", "encoder_hidden", "g1_dyn_hidden", "g1_kin_hidden", "critic_hidden"):
        assert getattr(result.model_config, field) == getattr(preset("sonic_release").model, field), field
    assert result.checkpoint["policy"]["state_dict"]["decoders.g1_dyn.module.0.weight"].shape == (2048, 994)
    assert result.checkpoint["critic"]["normalizer"]["count"].dtype == torch.float64


def test_wide_g1_dyn_means_bones_seed_and_an_explicit_preset_overrides() -> None:
    """4096-wide g1_dyn without soma infers bones_seed (which then lacks soma, named); --preset release accepts it."""
    raw = gear_sonic_dict(("g1", "teleop", "smpl"), SONIC_ENCODER, WIDE, SONIC_ENCODER, WIDE, _meta, False)
    name, reason = infer_preset(raw["policy_state_dict"])
    assert name == "sonic_bones_seed" and "4096" in reason
    with pytest.raises(
        GearSonicImportError,
        match=r"missing policy_state_dict\['actor_module.encoders.soma.module.0.weight'\]",
    ):
        convert_gear_sonic(raw)
    result = convert_gear_sonic(raw, preset="manager/universal_token/all_modes/sonic_release")
    assert result.preset == "sonic_release" and result.model_config.g1_dyn_hidden == WIDE


def test_leftover_keys_are_refused_and_listed() -> None:
    """Keys outside the mapping (in either state dict) are all named."""
    raw = small_dict()
    raw["policy_state_dict"]["actor_module.discriminator.module.0.weight"] = torch.zeros(2, 2)
    raw["value_state_dict"]["critic_module.module.1.weight"] = torch.zeros(2, 2)  # SiLU has no weights
    raw["value_state_dict"]["extra_stat"] = torch.zeros(1)
    with pytest.raises(GearSonicImportError) as err:
        convert_gear_sonic(raw, preset="small")
    text = str(err.value)
    assert "actor_module.discriminator.module.0.weight" in text
    assert "critic_module.module.1.weight" in text and "extra_stat" in text


def test_missing_keys_are_refused_and_listed() -> None:
    """Absent tensors are named by their GEAR-SONIC key."""
    raw = small_dict()
    del raw["policy_state_dict"]["actor_module.decoders.g1_kin.module.2.bias"]
    del raw["value_state_dict"]["running_mean_std.count"]
    with pytest.raises(GearSonicImportError) as err:
        convert_gear_sonic(raw, preset="small")
    text = str(err.value)
    assert "missing policy_state_dict['actor_module.decoders.g1_kin.module.2.bias']" in text
    assert "missing value_state_dict['running_mean_std.count']" in text


def test_wrong_shapes_are_refused_with_both_shapes() -> None:
    """A tensor of the wrong shape is named with the file's and the expected shape."""
    raw = small_dict()
    raw["policy_state_dict"]["actor_module.encoders.teleop.module.0.weight"] = torch.zeros(64, 266)
    raw["policy_state_dict"]["std"] = torch.ones(28)
    with pytest.raises(GearSonicImportError) as err:
        convert_gear_sonic(raw, preset="small")
    text = str(err.value)
    assert "actor_module.encoders.teleop.module.0.weight']: (64, 266) in the file, (64, 267) expected" in text
    assert "policy_state_dict['std']: (28,) in the file, (29,) expected" in text


def test_fsq_levels_and_non_tensor_values_are_checked() -> None:
    """FSQ levels other than the preset's, and non-tensor entries, are refused by name."""
    raw = small_dict()
    raw["policy_state_dict"]["actor_module.quantizer._levels"] = torch.full((32,), 16, dtype=torch.int32)
    with pytest.raises(GearSonicImportError, match="FSQ levels"):
        convert_gear_sonic(raw, preset="small")
    raw = small_dict()
    raw["value_state_dict"]["running_mean_std.count"] = 3.0  # type: ignore[assignment]
    with pytest.raises(GearSonicImportError, match="running_mean_std.count"):
        convert_gear_sonic(raw, preset="small")


_SIDE_EFFECTS: list[str] = []


def _record(text: str) -> str:
    _SIDE_EFFECTS.append(text)
    return text


@dataclasses.dataclass
class FakePPOConfig:
    """Stands for TRL's pickled ``args``."""

    learning_rate: float = 2e-5


class RunsCodeOnLoad:
    def __reduce__(self) -> tuple[Callable[[str], str], tuple[str]]:
        return (_record, ("pickled code ran",))


def test_pickled_classes_are_named_and_never_run(tmp_path: Path) -> None:
    """Trainer objects pickled beside the weights load as inert stand-ins (listed) or are refused."""
    raw: dict[str, object] = dict(small_dict())
    raw["args"] = FakePPOConfig()
    raw["state"] = RunsCodeOnLoad()
    path = tmp_path / "gear.pt"
    torch.save(raw, path)
    _SIDE_EFFECTS.clear()
    result = import_gear_sonic(path, preset="small")
    assert _SIDE_EFFECTS == []
    assert any(n.endswith("FakePPOConfig") for n in result.opaque_globals)
    assert any(n.endswith("_record") for n in result.opaque_globals)
    with pytest.raises(GearSonicImportError, match="pickled Python classes.*FakePPOConfig"):
        import_gear_sonic(path, preset="small", allow_pickled_classes=False)
    assert _SIDE_EFFECTS == []


def test_non_gear_sonic_files_are_refused(tmp_path: Path) -> None:
    """Our own format, or a bare state dict, gets an error saying what was expected."""
    ours = tmp_path / "ours.pt"
    torch.save(small_dict(), tmp_path / "g.pt")
    convert_gear_sonic_file(tmp_path / "g.pt", ours, preset="small")
    with pytest.raises(GearSonicImportError, match="already in our format"):
        import_gear_sonic(ours)
    torch.save(small_dict()["policy_state_dict"], tmp_path / "bare.pt")
    with pytest.raises(GearSonicImportError, match="policy_state_dict"):
        import_gear_sonic(tmp_path / "bare.pt")
    with pytest.raises(FileNotFoundError):
        import_gear_sonic(tmp_path / "absent.pt")


def test_cli_writes_our_format_and_reports_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command converts with --preset, and exits 1 with the problems on stderr for a bad file."""
    raw = small_dict()
    torch.save(raw, tmp_path / "in.pt")
    assert convert_main([str(tmp_path / "in.pt"), str(tmp_path / "out.pt"), "--preset", "small"]) == 0
    assert "wrote" in capsys.readouterr().out
    _assert_same_outputs(load_policy(tmp_path / "out.pt", with_critic=True).policy, hand_copied(raw, "small"))
    del raw["policy_state_dict"]["std"]
    torch.save(raw, tmp_path / "bad.pt")
    assert convert_main([str(tmp_path / "bad.pt"), str(tmp_path / "bad_out.pt"), "--preset", "small"]) == 1
    assert "missing policy_state_dict['std']" in capsys.readouterr().err
    assert not (tmp_path / "bad_out.pt").exists()


def test_console_script_is_installed(tmp_path: Path) -> None:
    """``sonic-convert-gear-sonic`` runs as a console script of the venv."""
    torch.save(small_dict(), tmp_path / "in.pt")
    script = Path(sys.executable).parent / "sonic-convert-gear-sonic"
    done = subprocess.run(
        [str(script), str(tmp_path / "in.pt"), str(tmp_path / "out.pt"), "--preset", "small"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "preset small (given explicitly)" in done.stdout
    assert load_policy(tmp_path / "out.pt").policy.config.encoder_hidden == SMALL["enc"]
