"""Joint training loss of SC-CoSF (paper §3.3): cross-entropy + 0.1 · fusion loss.

The fusion loss follows MRFS (the paper's reference [42]), whose public code fixes the constants
the paper leaves open. All images are float tensors in [0, 1].

* Positive samples ("common data augmentation strategies"): ``R_vis = vis ** γ`` (gamma
  correction) and ``R_ir = adjust_contrast(ir, c)`` (torchvision convention: blend with the
  per-image mean of the grayscale image, clamped to [0, 1]). Thermal is replicated to 3 channels.
* ``L_con = L1(F, max(R_vis, R_ir))``.
* ``L_grad = 0.5 · L1(∂x F, max(∂x R_vis, ∂x R_ir)) + 0.5 · L1(∂y F, max(∂y R_vis, ∂y R_ir))``
  with a 3×3 Sobel per colour channel (zero padding). Like MRFS we keep the *signed* Sobel
  responses (no ``|·|``) by default; ``FusionLossConfig.abs_gradient=True`` uses magnitudes
  ``|∂x|``, ``|∂y|`` instead (the SeAFusion/CDDFuse form).
* ``L_color = L1(Cb_F, Cb_Rvis) + L1(Cr_F, Cr_Rvis)`` with ``Y = .299R + .587G + .114B``,
  ``Cr = (R − Y)·.713 + .5``, ``Cb = (B − Y)·.564 + .5``.
* ``L_fusion = λ_con·L_con + λ_grad·L_grad + λ_color·L_color`` (MFNet 0.5/0.2/1, FMB 0.5/1/1).

Padding: a random crop larger than the rescaled image is padded (images 0, labels 255). Like
MRFS (which multiplies by its crop mask), the fusion terms average over the *valid* pixels only
(``valid`` mask from the transform): the content and colour terms over valid pixels, the
gradient terms over pixels whose whole 3×3 Sobel window is valid, so the artificial edge between
image and padding is never a target; the contrast sample's mean grey level is over valid pixels.
The image's own outer border keeps Sobel's zero padding, as before.
``FusionLossConfig.denominator`` says what the masked sums are divided by: ``valid`` (default:
the valid / edge-valid pixel counts, a true mean over the image) or ``crop`` (MRFS exactly:
every pixel of the crop, padding included, so a mostly padded crop weighs less).

Exposure-adaptive positive sample (``FusionLossConfig.gamma_mode = "exposure"``, a departure
from MRFS): ``vis ** 0.5`` suits MFNet's dark frames but washes out daylight ones, and the
content target ``max(R_vis, R_ir)`` then asks for a brighter-than-both veil. With ``exposure``
each image gets its own ``γ_i = clip(log 0.5 / log mean(Y_vis), gamma, 1)``: a dark frame is
brightened towards mid-grey (at most as much as ``vis ** gamma``), a well-exposed one is left
as it is.

Normalisation: every term is ``sum over elements / count``. Under DDP each process sees part of
the global batch; ``JointLoss`` takes the counts to divide by (``LossCounts``), so the trainer
can pass global counts (all-reduced, divided by the world size) and the averaged gradients are
exactly those of the loss over the whole global batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from sccosf_ros.classes import IGNORE_INDEX

TERMS = ("ce", "content", "gradient", "color", "fusion", "total")
GAMMA_MODES = ("fixed", "exposure")
DENOMINATORS = ("valid", "crop")


@dataclass(frozen=True)
class FusionLossConfig:
    """Per-dataset constants of the fusion loss (MRFS code for MFNet and FMB)."""

    gamma: float  # R_vis = vis ** gamma
    contrast: float  # R_ir = adjust_contrast(ir, contrast)
    w_content: float
    w_gradient: float
    w_color: float
    abs_gradient: bool = False  # False: signed Sobel responses as in MRFS
    gamma_mode: str = "fixed"  # fixed: vis ** gamma (MRFS) | exposure: per-image γ (docstring)
    denominator: str = "valid"  # valid: mean over image pixels | crop: MRFS, padding included
    w_ssim: float = 0.0  # structural term (a departure; 0 = MRFS): see structural_loss

    def __post_init__(self) -> None:
        if self.gamma_mode not in GAMMA_MODES:
            raise ValueError(f"gamma_mode must be one of {GAMMA_MODES}, not {self.gamma_mode!r}")
        if self.denominator not in DENOMINATORS:
            raise ValueError(
                f"denominator must be one of {DENOMINATORS}, not {self.denominator!r}"
            )


FUSION_CONSTANTS: dict[str, FusionLossConfig] = {
    "mfnet": FusionLossConfig(gamma=0.5, contrast=1.7, w_content=0.5, w_gradient=0.2, w_color=1.0),
    "fmb": FusionLossConfig(gamma=0.8, contrast=1.0, w_content=0.5, w_gradient=1.0, w_color=1.0),
}


def fusion_constants(dataset: str, layout: str | None = None) -> FusionLossConfig:
    """Constants for ``mfnet``/``fmb``; ``synthetic`` uses those of its layout (default mfnet),
    ``folder`` (a team's own recording) MFNet's."""
    key = dataset.lower()
    if key in ("synthetic", "folder"):
        key = (layout or "mfnet").lower()
    if key not in FUSION_CONSTANTS:
        raise ValueError(
            f"no fusion-loss constants for dataset {dataset!r} (layout {layout!r}); "
            f"use one of {sorted(FUSION_CONSTANTS)} or synthetic"
        )
    return FUSION_CONSTANTS[key]


# --------------------------------------------------------------------------- image operators
def rgb_to_ycbcr(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B,3,H,W) RGB in [0,1] → Y, Cb, Cr, each (B,1,H,W) (MRFS's analogue YCbCr, offset .5)."""
    r, g, b = img[:, 0:1], img[:, 1:2], img[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = (b - y) * 0.564 + 0.5
    cr = (r - y) * 0.713 + 0.5
    return y, cb, cr


def adjust_gamma(img: torch.Tensor, gamma: float | torch.Tensor) -> torch.Tensor:
    """``img ** gamma`` clamped to [0, 1] (torchvision ``adjust_gamma`` with gain 1); ``gamma``
    may be a per-image tensor (B,1,1,1)."""
    return img.clamp(0.0, 1.0).pow(gamma).clamp(0.0, 1.0)


def exposure_gamma(
    img: torch.Tensor, gamma: float, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-image γ (B,1,1,1) = clip(log 0.5 / log mean(Y), gamma, 1): mid-grey for dark frames.

    ``Y`` is the luminance of ``img`` (B,3,H,W) in [0, 1], its mean over ``valid`` pixels.
    """
    y = 0.299 * img[:, 0:1] + 0.587 * img[:, 1:2] + 0.114 * img[:, 2:3]
    m = torch.ones_like(y) if valid is None else valid.to(y.dtype)
    mean = (y * m).sum(dim=(1, 2, 3), keepdim=True) / m.sum(dim=(1, 2, 3), keepdim=True).clamp(
        min=1.0
    )
    g = torch.log(torch.tensor(0.5)) / torch.log(mean.clamp(1e-3, 0.999))
    return g.clamp(min(gamma, 1.0), 1.0)


def adjust_contrast(
    img: torch.Tensor, factor: float, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Blend with the per-image mean grey level (torchvision ``adjust_contrast`` semantics).

    img: (B,C,H,W) with C = 1 or 3. The mean is over the image's grayscale version
    (ITU-R 601 weights .2989/.587/.114 for C = 3), one value per image; with ``valid``
    (B,1,H,W) over the valid pixels only (crop padding would darken it).
    """
    if img.shape[1] == 3:
        gray = 0.2989 * img[:, 0:1] + 0.587 * img[:, 1:2] + 0.114 * img[:, 2:3]
    elif img.shape[1] == 1:
        gray = img
    else:
        raise ValueError(f"adjust_contrast expects 1 or 3 channels, got {img.shape[1]}")
    if valid is None:
        mean = gray.mean(dim=(-3, -2, -1), keepdim=True)
    else:
        m = valid.to(gray.dtype)
        mean = (gray * m).sum(dim=(-3, -2, -1), keepdim=True) / m.sum(
            dim=(-3, -2, -1), keepdim=True
        ).clamp(min=1.0)
    return (factor * img + (1.0 - factor) * mean).clamp(0.0, 1.0)


def edge_valid(valid: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) valid mask → pixels whose 3×3 window holds no padded pixel (the Sobel support).

    An erosion by one pixel that treats outside-the-frame as valid (max-pool pads with -inf),
    so only the image/padding border is removed, not the frame's own border.
    """
    return -F.max_pool2d(-valid.float(), 3, stride=1, padding=1)


class LossCounts(NamedTuple):
    """What each loss term is divided by (elements counted once per pixel, not per channel)."""

    labelled: torch.Tensor  # pixels with a class label (not 255): cross-entropy
    valid: torch.Tensor  # image pixels (not crop padding): content, colour
    edge: torch.Tensor  # valid pixels whose 3×3 window is all valid: gradient

    @classmethod
    def of(cls, label: torch.Tensor, valid: torch.Tensor, ignore_index: int = IGNORE_INDEX):
        """Local counts of one batch: ``label`` (B,H,W), ``valid`` (B,H,W) bool."""
        v = valid[:, None].float()
        return cls((label != ignore_index).sum().float(), v.sum(), edge_valid(v).sum())

    def over_crop(self, valid: torch.Tensor) -> LossCounts:
        """The fusion divisors replaced by every pixel of the crop (MRFS: padding included);
        ``valid`` is the batch's (B,[1,]H,W) mask, only its size is used."""
        full = torch.tensor(float(valid.numel()), device=valid.device)
        return LossCounts(self.labelled, full, full)

    def as_tensor(self) -> torch.Tensor:
        return torch.stack([self.labelled, self.valid, self.edge])

    @classmethod
    def from_tensor(cls, t: torch.Tensor) -> LossCounts:
        return cls(t[0], t[1], t[2])


def _masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, count: torch.Tensor):
    """Σ |a − b| · mask over all elements / (count · channels): the masked per-element mean."""
    return ((a - b).abs() * mask).sum() / (count.clamp(min=1.0) * a.shape[1])


class Sobel(nn.Module):
    """Per-channel 3×3 Sobel (cross-correlation, zero padding): (B,C,H,W) → (∂x, ∂y)."""

    def __init__(self) -> None:
        super().__init__()
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
        ky = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
        kernel = torch.stack([kx, ky])[:, None]  # (2,1,3,3)
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        out = F.conv2d(x.reshape(b * c, 1, h, w), self.kernel.to(x.dtype), padding=1)
        out = out.reshape(b, c, 2, h, w)  # (B,C,2,H,W): channel-wise, x then y
        return out[:, :, 0], out[:, :, 1]


def _local_ssim(x: torch.Tensor, y: torch.Tensor, window: int = 7) -> torch.Tensor:
    """SSIM map of two (B,1,H,W) images in [0, 1]: uniform ``window``², population statistics."""
    pool = nn.functional.avg_pool2d
    pad = window // 2
    mx, my = (pool(t, window, 1, pad, count_include_pad=False) for t in (x, y))
    vxx = pool(x * x, window, 1, pad, count_include_pad=False) - mx * mx
    vyy = pool(y * y, window, 1, pad, count_include_pad=False) - my * my
    vxy = pool(x * y, window, 1, pad, count_include_pad=False) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vxx + vyy + c2))


def structural_loss(
    fused: torch.Tensor, rgb: torch.Tensor, thermal: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """``1 − ½(SSIM(Y_F, Y_vis) + SSIM(Y_F, IR))`` over the valid pixels (a departure from MRFS,
    the SSIM loss of U2Fusion/SwinFusion-style methods): the fused luminance keeps the local
    structure of both sources, not only their larger intensity and gradient; valid (B,1,H,W)."""
    y_f, _, _ = rgb_to_ycbcr(fused)
    y_v, _, _ = rgb_to_ycbcr(rgb)
    ir = thermal[:, :1]
    s = 0.5 * (_local_ssim(y_f, y_v) + _local_ssim(y_f, ir))
    return 1.0 - (s * valid).sum() / valid.sum().clamp(min=1.0)


# --------------------------------------------------------------------------- fusion loss
class FusionLoss(nn.Module):
    """Content + gradient + colour loss against positive samples (§3.3, MRFS constants)."""

    def __init__(self, config: FusionLossConfig) -> None:
        super().__init__()
        self.config = config
        self.sobel = Sobel()

    def divisors(self, valid: torch.Tensor, edge: torch.Tensor) -> LossCounts:
        """What the content/colour and gradient sums are divided by (``labelled`` unused):
        the valid and edge-valid pixel counts, or every pixel of the crop (``crop``, MRFS)."""
        counts = LossCounts(valid.sum(), valid.sum(), edge.sum())
        return counts.over_crop(valid) if self.config.denominator == "crop" else counts

    def positive_samples(
        self, rgb: torch.Tensor, thermal: torch.Tensor, valid: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """rgb (B,3,H,W), thermal (B,1|3,H,W) → R_vis, R_ir, both (B,3,H,W)."""
        gamma: float | torch.Tensor = self.config.gamma
        if self.config.gamma_mode == "exposure":
            gamma = exposure_gamma(rgb, self.config.gamma, valid)
        r_vis = adjust_gamma(rgb, gamma)
        r_ir = adjust_contrast(thermal, self.config.contrast, valid)
        if r_ir.shape[1] == 1:
            r_ir = r_ir.expand(-1, 3, -1, -1)
        return r_vis, r_ir

    def forward(
        self,
        fused: torch.Tensor,
        rgb: torch.Tensor,
        thermal: torch.Tensor,
        valid: torch.Tensor | None = None,
        counts: LossCounts | None = None,
    ) -> dict[str, torch.Tensor]:
        """Returns the weighted total (``fusion``) and the raw terms content/gradient/color.

        ``valid`` (B,H,W) bool: the image pixels (None: all); ``counts``: what to divide by
        (None: this batch's own valid/edge pixel counts, i.e. masked means).
        """
        cfg = self.config
        fused = fused.float()
        if valid is None:
            valid = torch.ones(fused.shape[0], *fused.shape[-2:], dtype=torch.bool)
        m = valid[:, None].to(fused.device, torch.float32)  # (B,1,H,W)
        with torch.no_grad():  # targets: no gradient flows into the inputs
            edge = edge_valid(m)
            if counts is None:
                counts = self.divisors(m, edge)
            r_vis, r_ir = self.positive_samples(rgb.float(), thermal.float(), m)
            vx, vy = self.sobel(r_vis)
            ix, iy = self.sobel(r_ir)
            if cfg.abs_gradient:
                vx, vy, ix, iy = vx.abs(), vy.abs(), ix.abs(), iy.abs()
            target_x, target_y = torch.maximum(vx, ix), torch.maximum(vy, iy)
            target_int = torch.maximum(r_vis, r_ir)
            _, cb_vis, cr_vis = rgb_to_ycbcr(r_vis)
        fx, fy = self.sobel(fused)
        if cfg.abs_gradient:
            fx, fy = fx.abs(), fy.abs()
        content = _masked_l1(fused, target_int, m, counts.valid)
        gradient = 0.5 * _masked_l1(fx, target_x, edge, counts.edge) + 0.5 * _masked_l1(
            fy, target_y, edge, counts.edge
        )
        _, cb_f, cr_f = rgb_to_ycbcr(fused)
        color = _masked_l1(cb_f, cb_vis, m, counts.valid) + _masked_l1(
            cr_f, cr_vis, m, counts.valid
        )
        total = cfg.w_content * content + cfg.w_gradient * gradient + cfg.w_color * color
        if cfg.w_ssim:
            total = total + cfg.w_ssim * structural_loss(fused, rgb.float(), thermal.float(), m)
        return {"content": content, "gradient": gradient, "color": color, "fusion": total}


# --------------------------------------------------------------------------- joint loss
class JointLoss(nn.Module):
    """``total = seg_weight · CE + fusion_weight · L_fusion`` (paper: 1 and 0.1).

    Call with ``(output, rgb, thermal, label)``: ``output`` has ``.logits`` (B,K,H,W) and
    ``.fused`` (B,3,H,W); either may be None (ablation E has no segmentation head, F no fusion
    head), in which case that part contributes nothing and its logged terms are 0.
    Returns ``(total, terms)`` with float terms ce, content, gradient, color, fusion, total.
    """

    def __init__(
        self,
        dataset: str = "mfnet",
        seg_weight: float = 1.0,
        fusion_weight: float = 0.1,
        *,
        layout: str | None = None,
        ignore_index: int = IGNORE_INDEX,
        fusion_config: FusionLossConfig | None = None,
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.seg_weight = float(seg_weight)
        self.fusion_weight = float(fusion_weight)
        self.ignore_index = int(ignore_index)
        self.fusion = FusionLoss(fusion_config or fusion_constants(dataset, layout))

    def segmentation_loss(
        self, logits: torch.Tensor, label: torch.Tensor, labelled: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Cross-entropy summed over labelled pixels / ``labelled`` (None: their number, i.e.
        the pixel mean); 0 (with a graph) if no pixel is labelled."""
        if logits.shape[-2:] != label.shape[-2:]:
            logits = F.interpolate(
                logits, size=label.shape[-2:], mode="bilinear", align_corners=False
            )
        logits = logits.float()
        label = label.long()
        ce = F.cross_entropy(logits, label, ignore_index=self.ignore_index, reduction="sum")
        if labelled is None:
            labelled = (label != self.ignore_index).sum()
        return ce / labelled.float().clamp(min=1.0)  # no labelled pixel: 0 / 1, not NaN

    def counts(self, label: torch.Tensor, valid: torch.Tensor | None = None) -> LossCounts:
        """This batch's ``LossCounts`` (valid None: every pixel)."""
        if valid is None:
            valid = torch.ones(label.shape, dtype=torch.bool, device=label.device)
        counts = LossCounts.of(label, valid, self.ignore_index)
        return counts.over_crop(valid) if self.fusion.config.denominator == "crop" else counts

    def forward(
        self,
        output: Any,
        rgb: torch.Tensor,
        thermal: torch.Tensor,
        label: torch.Tensor,
        valid: torch.Tensor | None = None,
        counts: LossCounts | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``valid`` (B,H,W) bool marks image pixels (None: all); ``counts`` are the divisors
        (None: this batch's own, see ``counts``; the trainer passes global ones under DDP)."""
        if counts is None:
            counts = self.counts(label, valid)
        logits = getattr(output, "logits", None)
        fused = getattr(output, "fused", None)
        if logits is None and fused is None:
            raise ValueError("model output has neither logits nor a fused image: nothing to train")
        parts: list[torch.Tensor] = []
        logged: dict[str, torch.Tensor] = {}
        if logits is not None:
            ce = self.segmentation_loss(logits, label, counts.labelled)
            parts.append(self.seg_weight * ce)
            logged["ce"] = ce
        if fused is not None:
            fusion_terms = self.fusion(fused, rgb, thermal, valid, counts)
            parts.append(self.fusion_weight * fusion_terms["fusion"])
            logged.update(fusion_terms)
        total = torch.stack(parts).sum()
        logged["total"] = total
        # one device → host copy for all logged values (a sync per term would stall a GPU)
        values = torch.stack([v.detach().float() for v in logged.values()]).tolist()
        terms = dict.fromkeys(TERMS, 0.0)
        terms.update(zip(logged, values, strict=True))
        return total, terms
