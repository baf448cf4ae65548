"""The chunked layout and the chunked scan of one linear recurrence (the PyTorch path's core).

``h_k = exp(Δ_k A) ⊙ h_{k-1} + x_k`` along a sequence, cut into chunks of ``T`` steps: a
local loop over the T steps runs every chunk at once, the chunk-end states are carried by
the same recurrence one level up (recursively, chunks of 16), and one correction injects the
carry. The layout helpers move tensors between the natural (..., L) layout and the chunked
(T, ..., nc) one. Used by :mod:`.chunked` (training) and :mod:`.torch_backend` (inference).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Chunk length at every level of the chunked scan; the chunk-level recurrences are scanned
# the same way recursively, so a level costs ~T sequential steps (16+16+16+5 at l = 19200).
_T = 16
# The first level's chunk length (per channel block, on the full state; the chunk-level
# tensors, states entering/leaving chunks, are 1/T1 of the state) and the channel-block size
# depend on the device: see chunked.Blocking.

# Layouts. "natural": sequence last, (..., L). "chunked": (T, ..., nc) with sequence position
# c·T + t, so that step t of every chunk is one contiguous slice and the long chunk axis is
# innermost (broadcasts over n, d and b then run as long vectorised inner loops). State
# tensors are (..., n, db, b, seq); Δ-like tensors (..., 1, db, b, seq); A is passed as
# A_ = (n, db, 1, 1), so exp(Δ ⊗ A) is exp(dl * A_) in either layout.


def _chunk_last(x: Tensor, T: int, nc: int) -> Tensor:
    """Natural (..., L) → chunked (T, ..., nc), contiguous, tail zero-padded to nc·T."""
    lead = x.shape[:-1]
    pad = nc * T - x.shape[-1]
    if pad:
        x = F.pad(x, (0, pad))
    # two cheap copies (a batched 2-D transpose, then moving whole nc-runs) instead of one
    # element-wise gather, which is 3-4x slower on CPU
    y = x.reshape(-1, nc, T).transpose(1, 2).contiguous()  # (M, T, nc)
    return y.view(*lead, T, nc).movedim(-2, 0).contiguous()


def _unchunk_last(x: Tensor, length: int) -> Tensor:
    """Chunked (T, ..., nc) → natural (..., L), contiguous."""
    T, nc = x.shape[0], x.shape[-1]
    lead = x.shape[1:-1]
    y = x.movedim(0, -2).contiguous().view(-1, T, nc)
    y = y.transpose(1, 2).contiguous().view(*lead, nc * T)
    return y[..., :length] if nc * T > length else y


def to_chunks(x: Tensor, T: int, nc: int) -> Tensor:
    """(b, m, l) → (T, m, b, nc)."""
    b, m, length = x.shape
    if nc * T > length:
        x = F.pad(x, (0, nc * T - length))
    y = x.reshape(b * m, nc, T).transpose(1, 2).contiguous()  # see _chunk_last
    return y.view(b, m, T, nc).permute(2, 1, 0, 3).contiguous()


def from_chunks(x: Tensor, length: int) -> Tensor:
    """(T, m, b, nc) → (b, m, l)."""
    T, m, b, nc = x.shape
    y = x.permute(2, 1, 0, 3).contiguous().view(b * m, T, nc)
    y = y.transpose(1, 2).contiguous().view(b, m, nc * T)
    return y[..., :length].contiguous() if nc * T > length else y


def bc_to_chunks(M: Tensor, T: int, nc: int) -> Tensor:
    """(b, g, n, l) → (T, n, g, b, nc)."""
    return _chunk_last(M.permute(2, 1, 0, 3), T, nc)


def bc_from_chunks(M: Tensor, length: int) -> Tensor:
    """(T, n, g, b, nc) → (b, g, n, l)."""
    return _unchunk_last(M, length).permute(2, 1, 0, 3).contiguous()


def decay(dl: Tensor, A_: Tensor, out: Tensor | None = None) -> Tensor:
    """exp(dl ⊗ A): dl (..., 1, db, b, s) with A_ (n, db, 1, 1) → (..., n, db, b, s)."""
    if out is None:
        return torch.exp(dl * A_)
    return torch.mul(dl, A_, out=out).exp_()


def scan_natural(x: Tensor, dl: Tensor, A_: Tensor) -> Tensor:
    """Inclusive scan along the last dim, ``x_k ← exp(dl_k A) x_{k-1} + x_k``, zero state.

    x (n, db, b, L), dl (1, db, b, L) (dl_0 is not used). Short sequences are a plain loop;
    longer ones go through :func:`scan_chunks`, which recurses here for its chunk carry.
    Returns the states (x itself or a new tensor).
    """
    length = x.shape[-1]
    if length <= _T:
        if length > 1:
            xs, as_ = x.unbind(-1), decay(dl[..., 1:], A_).unbind(-1)
            for k in range(1, length):
                xs[k].addcmul_(as_[k - 1], xs[k - 1])
        return x
    nc = math.ceil(length / _T)
    xl, dll = _chunk_last(x, _T, nc), _chunk_last(dl, _T, nc)
    h, _, _ = scan_chunks(xl, decay(dll, A_), dll, A_)
    return _unchunk_last(h, length)


def scan_chunks(
    x: Tensor, a: Tensor, dl: Tensor, A_: Tensor, xp: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Chunked inclusive scan: x, a = exp(dl ⊗ A) (T, n, db, b, nc), dl (T, 1, db, b, nc).

    xp: optional (T, 2, n, db, b, nc) work buffer with xp[:, 0] = x (then x is scanned in
    place). Returns the states h (T, n, db, b, nc), H (n, db, b, nc), the true state entering
    each chunk (H[..., 0] = 0), and the chunk sums of dl (1, db, b, nc).
    """
    T, nc = x.shape[0], x.shape[-1]
    total = dl.sum(0)
    if nc == 1:
        xs, as_ = x.unbind(0), a.unbind(0)
        for t in range(1, T):
            xs[t].addcmul_(as_[t], xs[t - 1])
        return x, x.new_zeros(x.shape[1:]), total
    # x and the in-chunk decay products p_t = Π_{r≤t} a_r obey the same recurrence
    # (p_{-1} = 1), so one stacked (T, 2, ...) scan updates both with one op per step.
    xp = _stacked(x, xp)
    xp[:, 1].zero_()
    xp[0, 1].copy_(a[0])
    xps, as_ = xp.unbind(0), a.unsqueeze(1).unbind(0)
    for t in range(1, T):  # local scan from a zero state, every chunk at once
        xps[t].addcmul_(as_[t], xps[t - 1])
    x, p = xp[:, 0], xp[:, 1]
    H = x.new_empty(x.shape[1:])
    H[..., 0] = 0
    # chunk-end states: S_c = exp(A Σ_{t∈c} dl) S_{c-1} + x[T-1, c]
    H[..., 1:] = scan_natural(x[-1, ..., :-1].clone(), total[..., :-1], A_)
    x[..., 1:].addcmul_(p[..., 1:], H[..., 1:])  # p ≤ 1 for A ≤ 0: nothing overflows
    return x, H, total


def _stacked(x: Tensor, buf: Tensor | None) -> Tensor:
    """A (T, 2, ...) tensor whose [:, 0] holds x: buf itself when buf[:, 0] is x."""
    if buf is not None and buf[:, 0].data_ptr() == x.data_ptr():
        return buf
    out = x.new_empty((x.shape[0], 2, *x.shape[1:]))
    out[:, 0] = x
    return out
