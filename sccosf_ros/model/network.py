"""SC-CoSF: joint RGB-thermal image fusion and semantic segmentation (paper §3.2, Figure 2).

Shared ConvNeXt encoder → Sc-CFM at each of the 4 stages (output 2·C_i channels: the RGB and
thermal halves after correction) → two parallel heads on the fused maps: ICRM (segmentation
logits) and ReAW (fused RGB image). Inputs of any size are padded (replicate) to a multiple of
32 and the outputs cropped back; the tensors run channels-last (depthwise convs are ~10×
faster that way on CPU).

Presets (``sccosf bench model``; "GMAC" = multiply-accumulates of convs and matmuls, which is
what the paper's Table 3 calls FLOPs, at 600×800):

=======  ===================  ========  =========
preset   encoder              params    GMAC
=======  ===================  ========  =========
nano     convnext_atto         6.36 M    14.6
tiny     convnext_tiny        45.07 M   107.2
paper    convnext_base       133.11 M   327.4   (Table 3: 139.62 M, 304.52 G → −4.7 %, +7.5 %)
=======  ===================  ========  =========

``nano`` is the architecture of the shipped checkpoint: its structure (parameter names and
shapes) is frozen — ``test/model/test_network.py`` pins it; change it only together with a
newly trained checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sccosf_ros.model.encoder import SharedEncoder
from sccosf_ros.model.icrm import ICRM
from sccosf_ros.model.reaw import ReAW
from sccosf_ros.model.sc_cfm import AdditionFusion, ScCFM

# Paper Table 4 variants → the config switches they turn off.
ABLATIONS: dict[str, dict[str, bool]] = {
    "A": {"use_sc_cfm": False},  # Sc-CFM replaced by tensor addition
    "B": {"use_sc_fgb": False},  # no Sc-FGB
    "C": {"use_sc_lrb": False},  # no Sc-LRB
    "D": {"use_dcr": False},  # DCR replaced by tensor addition
    "E": {"seg_head": False},  # no segmentation head (logits None)
    "F": {"fusion_head": False},  # no fusion head (fused None)
}

STRIDE = 32  # the encoder's total downsampling: inputs are padded to a multiple of it


@dataclass
class SCCoSFConfig:
    """Everything that defines an SC-CoSF network (presets are instances of this)."""

    encoder: str = "convnext_atto"  # timm ConvNeXt name
    # timm ImageNet weights (needs internet or the HF cache): False, True (timm's default
    # tag), "in1k", "in22k" or a timm tag; see model/encoder.py pretrained_tag
    pretrained_encoder: bool | str = False
    # stochastic depth in the ConvNeXt encoder (timm drop_path_rate; training only, no weights)
    drop_path_rate: float = 0.0
    d_state: int = 16  # SSM state size N (Sc-LRB and ICRM)
    ssm_ratio: float | tuple[float, ...] = 1.0  # Sc-LRB inner width = ratio · C_i (or per stage)
    fgb_ratio: float | tuple[float, ...] = 1.0  # Sc-FGB hidden width per modality = ratio · C_i
    dcr_reduction: int = 32  # DCR coordinate-attention channel reduction
    decoder_dims: tuple[int, ...] = (64, 128, 192, 256)  # ICRM width per stage (1/4 … 1/32)
    decoder_depths: tuple[int, ...] = (1, 1, 1, 1)  # ICR-VSS blocks per stage
    decoder_ssm_ratio: float = 1.0  # ICR-VSS SS2D inner width = ratio · decoder dim
    reaw_width: int = 16  # ReAW region-branch channels
    reaw_kernels: tuple[int, ...] = (1, 3, 5)  # ReAW region kernel sizes (l = len)
    reaw_recon_width: int = 16  # ReAW reconstruction conv width
    use_sc_cfm: bool = True  # False: ablation A (F^R + F^I)
    use_sc_lrb: bool = True  # False: ablation C
    use_sc_fgb: bool = True  # False: ablation B
    use_dcr: bool = True  # False: ablation D (F^S + F^V)
    seg_head: bool = True  # False: ablation E
    fusion_head: bool = True  # False: ablation F
    ablation: str | None = None  # "A".."F": sets the switches above (paper Table 4)
    scan_backend: str = "auto"  # selective_scan backend: auto | torch | triton | mamba_ssm
    pad_mode: str = "replicate"  # how inputs are padded to a multiple of 32

    def __post_init__(self) -> None:
        for name in ("decoder_dims", "decoder_depths", "reaw_kernels"):
            setattr(self, name, tuple(int(v) for v in getattr(self, name)))
        for name in ("ssm_ratio", "fgb_ratio"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                if len(value) != 4:
                    raise ValueError(f"{name} needs one value or 4 (one per stage), got {value}")
                setattr(self, name, tuple(float(v) for v in value))
            else:
                setattr(self, name, float(value))
        if self.ablation is not None:
            key = str(self.ablation).upper()
            if key not in ABLATIONS:
                raise ValueError(
                    f"unknown ablation {self.ablation!r}; valid: {', '.join(ABLATIONS)} "
                    "(paper Table 4) or None"
                )
            self.ablation = key
            for name, value in ABLATIONS[key].items():
                setattr(self, name, value)
        if not (self.seg_head or self.fusion_head):
            raise ValueError("seg_head and fusion_head cannot both be off")
        if self.pad_mode not in ("replicate", "reflect", "constant"):
            raise ValueError(
                f"pad_mode must be replicate, reflect or constant, not {self.pad_mode!r}"
            )
        if not 0.0 <= float(self.drop_path_rate) < 1.0:
            raise ValueError(f"drop_path_rate must be in [0, 1), got {self.drop_path_rate}")
        if len(self.decoder_dims) != 4 or len(self.decoder_depths) != 4:
            raise ValueError("decoder_dims and decoder_depths need 4 entries (one per stage)")

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON- and ``weights_only``-safe (tuples as lists); ``SCCoSFConfig(**d)``
        rebuilds it."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


PRESETS: dict[str, SCCoSFConfig] = {
    # nano — FROZEN (the shipped checkpoint's architecture). Sized for ≤ 200 ms per pair at
    # 480×640 on 2 CPU threads, where the ConvNeXt-atto encoder alone takes ~90 ms and the
    # selective scans at stage 1 (L = 19200) are the largest remaining cost. Hence: d_state=1
    # (VMamba's fast variants use N=1; the scan's cost is linear in N), Sc-LRB inner width
    # C/2 at stage 1 and C elsewhere, no ICR-VSS block at 1/4 scale (the first SS2D runs at
    # 1/8), and a slim ReAW (8 channels, kernels 1 and 3) because its reconstruction convs run
    # at full resolution.
    "nano": SCCoSFConfig(
        encoder="convnext_atto",
        d_state=1,
        ssm_ratio=(0.5, 1.0, 1.0, 1.0),
        fgb_ratio=0.5,
        decoder_dims=(32, 32, 64, 128),
        decoder_depths=(0, 1, 1, 1),
        decoder_ssm_ratio=1.0,
        reaw_width=8,
        reaw_kernels=(1, 3),
        reaw_recon_width=8,
    ),
    # tiny — ConvNeXt-T with every fusion/decoder stage active and a 4-state SSM.
    "tiny": SCCoSFConfig(
        encoder="convnext_tiny",
        d_state=4,
        ssm_ratio=(0.5, 1.0, 1.0, 1.0),
        fgb_ratio=0.5,
        decoder_dims=(48, 96, 192, 384),
        decoder_depths=(1, 1, 1, 1),
        decoder_ssm_ratio=1.0,
        reaw_width=16,
        reaw_kernels=(1, 3),
        reaw_recon_width=16,
    ),
    # paper — ConvNeXt-B (87.6 M) sized to Table 3 (139.62 M params, 304.52 G FLOPs at
    # 600×800, FLOPs counted as multiply-accumulates like the paper's peers). The encoder alone
    # is ~295 G MACs at 600×800, so the ~52 M parameters of the rest sit mostly at stage 4
    # (1/32 scale) and the 1/4 and 1/8 stages are kept slim.
    "paper": SCCoSFConfig(
        encoder="convnext_base",
        d_state=16,
        ssm_ratio=(0.25, 0.25, 0.5, 2.0),
        fgb_ratio=(0.25, 0.25, 0.25, 0.5),
        decoder_dims=(32, 64, 192, 1024),
        decoder_depths=(1, 1, 1, 2),
        decoder_ssm_ratio=1.0,
        reaw_width=16,
        reaw_kernels=(1, 3),
        reaw_recon_width=16,
    ),
}


def _per_stage(value: float | tuple[float, ...], stage: int) -> float:
    return value[stage] if isinstance(value, tuple) else value


@dataclass
class SCCoSFOutput:
    """Network outputs; a head that is switched off (ablation E/F) gives None."""

    fused: torch.Tensor | None = None  # (B,3,H,W) in [0,1]
    logits: torch.Tensor | None = None  # (B,num_classes,H,W)


class SCCoSF(nn.Module):
    """rgb (B,3,H,W) + thermal (B,1|3,H,W), floats in [0,1], any H, W → SCCoSFOutput.

    ``build_args`` records how ``build_model`` made the network (preset, num_classes,
    overrides; preset None for ``SCCoSF(config)``); checkpoints store the full ``config``.
    """

    def __init__(self, config: SCCoSFConfig, num_classes: int = 9) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be ≥ 1, got {num_classes}")
        self.config = config
        self.num_classes = num_classes
        self.build_args: dict[str, Any] = {
            "preset": None,
            "num_classes": num_classes,
            "overrides": {},
        }
        c = config
        self.encoder = SharedEncoder(c.encoder, c.pretrained_encoder, c.drop_path_rate)
        fusions = []
        for i, ch in enumerate(self.encoder.channels):
            if c.use_sc_cfm:
                fusions.append(
                    ScCFM(
                        ch,
                        c.d_state,
                        _per_stage(c.ssm_ratio, i),
                        _per_stage(c.fgb_ratio, i),
                        c.dcr_reduction,
                        use_sc_lrb=c.use_sc_lrb,
                        use_sc_fgb=c.use_sc_fgb,
                        use_dcr=c.use_dcr,
                        scan_backend=c.scan_backend,
                    )
                )
            else:
                fusions.append(AdditionFusion(ch))
        self.fusion = nn.ModuleList(fusions)
        fused_ch = [m.out_channels for m in fusions]
        self.seg_head = (
            ICRM(
                fused_ch,
                num_classes,
                c.decoder_dims,
                c.decoder_depths,
                c.d_state,
                c.decoder_ssm_ratio,
                c.scan_backend,
            )
            if c.seg_head
            else None
        )
        self.fusion_head = (
            ReAW(fused_ch, c.reaw_width, c.reaw_kernels, c.reaw_recon_width)
            if c.fusion_head
            else None
        )

    def _check(self, rgb: torch.Tensor, thermal: torch.Tensor) -> None:
        if rgb.dim() != 4 or rgb.shape[1] != 3:
            raise ValueError(f"rgb must be (B,3,H,W), got {tuple(rgb.shape)}")
        if thermal.dim() != 4 or thermal.shape[1] not in (1, 3):
            raise ValueError(f"thermal must be (B,1,H,W) or (B,3,H,W), got {tuple(thermal.shape)}")
        if thermal.shape[0] != rgb.shape[0] or thermal.shape[-2:] != rgb.shape[-2:]:
            raise ValueError(
                f"rgb {tuple(rgb.shape)} and thermal {tuple(thermal.shape)} differ in batch "
                "or size; register/resize thermal to the RGB frame first"
            )

    def forward(self, rgb: torch.Tensor, thermal: torch.Tensor) -> SCCoSFOutput:
        self._check(rgb, thermal)
        h, w = rgb.shape[-2:]
        ph, pw = (-h) % STRIDE, (-w) % STRIDE
        if ph or pw:
            mode = self.config.pad_mode
            if mode == "reflect" and (ph >= h or pw >= w):
                mode = "replicate"  # reflect cannot pad more than the image size - 1
            rgb = F.pad(rgb, (0, pw, 0, ph), mode=mode)
            thermal = F.pad(thermal, (0, pw, 0, ph), mode=mode)
        # channels-last: depthwise convs (ConvNeXt, Sc-FGB, the S6 blocks) run ~10× faster on CPU
        rgb = rgb.contiguous(memory_format=torch.channels_last)
        thermal = thermal.contiguous(memory_format=torch.channels_last)
        feats_rgb, feats_th = self.encoder(rgb, thermal)
        fused_feats = [
            m(fr, ft) for m, fr, ft in zip(self.fusion, feats_rgb, feats_th, strict=True)
        ]

        out = SCCoSFOutput()
        if self.seg_head is not None:
            logits = self.seg_head(fused_feats)
            logits = F.interpolate(
                logits, size=rgb.shape[-2:], mode="bilinear", align_corners=False
            )
            out.logits = logits[..., :h, :w]
        if self.fusion_head is not None:
            th1 = thermal if thermal.shape[1] == 1 else thermal.mean(1, keepdim=True)
            out.fused = self.fusion_head(fused_feats, rgb, th1)[..., :h, :w]
        return out


_FIELDS = {f.name for f in dataclasses.fields(SCCoSFConfig)}
# Fields that choose how the network runs or starts, not what its weights mean.
RUNTIME_FIELDS = ("pretrained_encoder", "scan_backend", "drop_path_rate")


def config_differences(a: SCCoSFConfig, b: SCCoSFConfig) -> list[str]:
    """``field: a → b`` for every field that differs, the RUNTIME_FIELDS aside."""
    da, db = a.to_dict(), b.to_dict()
    return [
        f"{k}: {da[k]!r} → {db[k]!r}" for k in da if k not in RUNTIME_FIELDS and da[k] != db[k]
    ]


def preset_of(config: SCCoSFConfig) -> str | None:
    """The name of the preset ``config`` equals (runtime fields aside), or None."""
    for name, preset in PRESETS.items():
        if not config_differences(config, preset):
            return name
    return None


def build_model(preset: str = "nano", num_classes: int = 9, **overrides: Any) -> SCCoSF:
    """Build a preset, optionally with SCCoSFConfig field overrides (e.g. ``ablation="B"``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise ValueError(
            f"unknown override(s) {', '.join(unknown)}; valid: {', '.join(sorted(_FIELDS))}"
        )
    config = dataclasses.replace(PRESETS[preset], **overrides)
    model = SCCoSF(config, num_classes=int(num_classes))
    model.build_args = {
        "preset": preset,
        "num_classes": int(num_classes),
        "overrides": dict(overrides),
    }
    return model
