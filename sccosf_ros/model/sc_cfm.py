"""Sc-CFM: Self-correction and Collaboration Fusion Module (paper §3.2.1, Figure 3).

One per encoder stage: (F_i^R, F_i^I) → fused F_i. Sc-LRB gives the semantically corrected F^S,
Sc-FGB the visually corrected F^V (both 2·C channels), DCR recalibrates their sum.

Ablations (paper Table 4): ``use_sc_lrb=False`` (C) or ``use_sc_fgb=False`` (B) drop a branch
(DCR then recalibrates the other one alone); ``use_dcr=False`` (D) replaces DCR by the plain sum
F^S + F^V. Variant A (the whole module replaced by F^R + F^I) is ``AdditionFusion``.
"""

from __future__ import annotations

import torch
from torch import nn

from sccosf_ros.model.dcr import DCR
from sccosf_ros.model.sc_fgb import ScFGB
from sccosf_ros.model.sc_lrb import ScLRB


class AdditionFusion(nn.Module):
    """Ablation A: F = F^R + F^I (C channels, no parameters)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.out_channels = channels

    def forward(self, f_rgb: torch.Tensor, f_th: torch.Tensor) -> torch.Tensor:
        return f_rgb + f_th


class ScCFM(nn.Module):
    """(F^R, F^I) each (B,C,H,W) → F (B,2C,H,W)."""

    def __init__(
        self,
        channels: int,
        d_state: int = 16,
        ssm_ratio: float = 1.0,
        fgb_ratio: float = 1.0,
        dcr_reduction: int = 32,
        use_sc_lrb: bool = True,
        use_sc_fgb: bool = True,
        use_dcr: bool = True,
        scan_backend: str = "auto",
    ) -> None:
        super().__init__()
        if not (use_sc_lrb or use_sc_fgb):
            raise ValueError(
                "Sc-CFM needs Sc-LRB or Sc-FGB; to drop both use ablation A (use_sc_cfm=False)"
            )
        self.lrb = ScLRB(channels, d_state, ssm_ratio, scan_backend) if use_sc_lrb else None
        self.fgb = ScFGB(channels, fgb_ratio) if use_sc_fgb else None
        self.out_channels = 2 * channels
        self.dcr = DCR(self.out_channels, dcr_reduction) if use_dcr else None

    def forward(self, f_rgb: torch.Tensor, f_th: torch.Tensor) -> torch.Tensor:
        fs = self.lrb(f_rgb, f_th) if self.lrb is not None else None
        fv = self.fgb(f_rgb, f_th) if self.fgb is not None else None
        if fs is None:
            fs = torch.zeros_like(fv)
        if fv is None:
            fv = torch.zeros_like(fs)
        return self.dcr(fs, fv) if self.dcr is not None else fs + fv
