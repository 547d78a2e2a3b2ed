"""Fused recurrent layers: one RNN / LSTM / GRU layer over every time step as ONE Function.

A layer's input projection for all time steps is a single matmul; each time step is then
a handful of whole-array operations on the batch, and backward runs back-propagation
through time in array code from what forward saved. Recording ~10 graph nodes per time
step instead would cost more in bookkeeping than the arithmetic itself.

Data layout (shared with PackedSequence): the input is flat, (N, input_size), time-major;
time step t occupies rows [offset_t, offset_t + batch_sizes[t]), and batch sizes never
grow with t. A padded (T, B, *) input is the special case batch_sizes = (B,) * T. The
recurrent state keeps every sequence's row; at step t only the first batch_sizes[t] rows
advance, so the others keep their state: a finished sequence holds its final state
(forward direction) and one not yet started holds its initial state (reverse direction).
"""

from __future__ import annotations

from ... import backend
from ...autograd.node import Function

__all__: list[str] = []

# Sigmoid gates run as sigmoid(x) = (1 + tanh(x / 2)) / 2 with their weight rows halved
# beforehand (which gives x / 2 exactly): one tanh call then covers every gate of a step on
# contiguous memory, where an exp-based sigmoid takes four passes over strided columns.


def _halved(a, *blocks):
    """A copy of weight / bias `a` with the row ranges of its sigmoid gates halved."""
    out = a.copy()
    for start, stop in blocks:
        out[start:stop] *= 0.5
    return out


def _finish_sigmoid_(a):
    """tanh(x / 2) -> sigmoid(x), in place."""
    a *= 0.5
    a += 0.5
    return a


def _steps(batch_sizes, reverse: bool) -> list:
    """(row offset, batch size) per time step, in the order the layer processes them."""
    steps, offset = [], 0
    for b in batch_sizes:
        steps.append((offset, b))
        offset += b
    return steps[::-1] if reverse else steps


def _input_projection(xp, x, w_ih, bias):
    """x @ w_ih^T (+ bias) for every time step at once."""
    out = xp.matmul(x, w_ih.T)
    if bias is not None:
        out += bias
    return out


# -- forward passes ------------------------------------------------------------------------------
# Each returns (outputs, saved): outputs are (y, h_n[, c_n]); saved is what backward reads.

def _rnn_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps, relu):
    bias = None if b_ih is None else b_ih + b_hh
    y = _input_projection(xp, x, w_ih, bias)  # becomes the output in place, step by step
    h = h0.copy()
    h_prev = xp.empty((x.shape[0], h0.shape[-1]), dtype=y.dtype)
    w_hh_t = w_hh.T
    for s, b in steps:
        e = s + b
        hp = h[:b]
        h_prev[s:e] = hp
        a = y[s:e]
        a += hp @ w_hh_t
        if relu:
            xp.maximum(a, 0, out=a)
        else:
            xp.tanh(a, out=a)
        h[:b] = a
    return (y, h), (h_prev,)


def _lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps):
    # gates in torch's order (i, f, g, o); i, f and o are sigmoid gates
    H = c0.shape[-1]
    H2, H3 = 2 * H, 3 * H
    sigmoid_rows = ((0, H2), (H3, 4 * H))
    w_hh_t = _halved(w_hh, *sigmoid_rows).T
    bias = None if b_ih is None else _halved(b_ih + b_hh, *sigmoid_rows)
    gates = _input_projection(xp, x, _halved(w_ih, *sigmoid_rows), bias)  # activated in place
    N, dt = x.shape[0], gates.dtype
    h, c = h0.copy(), c0.copy()
    h_prev = xp.empty((N, h0.shape[-1]), dtype=dt)
    c_prev = xp.empty((N, H), dtype=dt)
    tanh_c = xp.empty((N, H), dtype=dt)
    y = xp.empty((N, h0.shape[-1]), dtype=dt)
    h_full = None if w_hr is None else xp.empty((N, H), dtype=dt)  # before projection
    w_hr_t = None if w_hr is None else w_hr.T
    for s, b in steps:
        e = s + b
        hp = h[:b]
        h_prev[s:e] = hp
        g = gates[s:e]
        g += hp @ w_hh_t
        xp.tanh(g, out=g)
        _finish_sigmoid_(g[:, :H2])  # i, f
        o = _finish_sigmoid_(g[:, H3:])
        cp = c[:b]
        c_prev[s:e] = cp
        cp *= g[:, H:H2]  # f
        cp += g[:, :H] * g[:, H2:H3]  # i * g
        tc = xp.tanh(cp, out=tanh_c[s:e])
        if w_hr is None:
            xp.multiply(o, tc, out=y[s:e])
        else:
            xp.multiply(o, tc, out=h_full[s:e])
            xp.matmul(h_full[s:e], w_hr_t, out=y[s:e])
        h[:b] = y[s:e]
    return (y, h, c), (gates, h_prev, c_prev, tanh_c, h_full)


def _gru_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps):
    H = h0.shape[-1]
    H2 = 2 * H
    bias = None
    if b_ih is not None:
        # b_hh's reset/update parts add like b_ih's; its new-gate part sits inside r * (.)
        bias = b_ih.copy()
        bias[:H2] += b_hh[:H2]
        bias[:H2] *= 0.5  # r and z are sigmoid gates
    gates = _input_projection(xp, x, _halved(w_ih, (0, H2)), bias)  # (r, z, n), in place
    N, dt = x.shape[0], gates.dtype
    h = h0.copy()
    h_prev = xp.empty((N, H), dtype=dt)
    hn_all = xp.empty((N, H), dtype=dt)  # W_hn h + b_hn, which the reset gate scales
    y = xp.empty((N, H), dtype=dt)
    w_hh_t = _halved(w_hh, (0, H2)).T
    for s, b in steps:
        e = s + b
        hp = h[:b]
        h_prev[s:e] = hp
        hw = hp @ w_hh_t
        g = gates[s:e]
        rz = g[:, :H2]
        rz += hw[:, :H2]
        _finish_sigmoid_(xp.tanh(rz, out=rz))
        hn = hn_all[s:e]
        if b_hh is None:
            hn[...] = hw[:, H2:]
        else:
            xp.add(hw[:, H2:], b_hh[H2:], out=hn)
        n = g[:, H2:]
        n += g[:, :H] * hn
        xp.tanh(n, out=n)
        yt = y[s:e]
        xp.subtract(hp, n, out=yt)
        yt *= g[:, H:H2]
        yt += n
        h[:b] = yt
    return (y, h), (gates, h_prev, hn_all)


# -- backward passes -----------------------------------------------------------------------------
# Each returns (da_in, da_hid, extra): the gradients of the gate pre-activations on the
# input side and the hidden side (the same array except for GRU), plus mode-specific
# gradients; the recurrent state's gradient is updated in `dh` / `dc` in place.

def _rnn_backward(xp, saved, y, gy, dh, dc, w_hh, w_hr, steps, relu):
    if relu:
        k = (y > 0).astype(y.dtype)
    else:
        k = y * y
        xp.subtract(1, k, out=k)
    da = k  # overwritten step by step with the pre-activation gradient
    for s, b in reversed(steps):
        e = s + b
        d = dh[:b] + gy[s:e]
        d *= k[s:e]
        da[s:e] = d
        xp.matmul(d, w_hh, out=dh[:b])
    return da, da, None


def _lstm_backward(xp, saved, y, gy, dh, dc, w_hh, w_hr, steps):
    gates, h_prev, c_prev, tanh_c, h_full = saved
    H = c_prev.shape[-1]
    H3 = 3 * H
    i, f, g, o = (gates[:, j * H:(j + 1) * H] for j in range(4))
    # Per-element factors of every step at once, so the time loop stays short:
    # da_(i,f,g) = dc * k_(i,f,g) (one contiguous block), da_o = dh * k_o, dc += dh * o_t.
    k = 1 - gates
    k *= gates  # sigmoid' for i, f and o (the g block is overwritten below)
    k[:, :H] *= g
    k[:, H:2 * H] *= c_prev
    k_g = k[:, 2 * H:H3]
    xp.multiply(g, g, out=k_g)
    xp.subtract(1, k_g, out=k_g)
    k_g *= i
    k[:, H3:] *= tanh_c
    o_t = tanh_c * tanh_c
    xp.subtract(1, o_t, out=o_t)
    o_t *= o
    gy_proj = None if w_hr is None else xp.empty_like(gy)
    for s, b in reversed(steps):
        e = s + b
        d = dh[:b] + gy[s:e]
        if w_hr is not None:
            gy_proj[s:e] = d
            d = d @ w_hr
        dcn = d * o_t[s:e]
        dcn += dc[:b]
        kv = k[s:e]
        kv.reshape(b, 4, H)[:, :3] *= dcn[:, None, :]
        kv[:, H3:] *= d
        xp.multiply(dcn, f[s:e], out=dc[:b])
        xp.matmul(kv, w_hh, out=dh[:b])
    g_hr = None if w_hr is None else gy_proj.T @ h_full
    return k, k, g_hr


def _gru_backward(xp, saved, y, gy, dh, dc, w_hh, w_hr, steps):
    gates, h_prev, hn_all = saved
    H = h_prev.shape[-1]
    r, z, n = (gates[:, j * H:(j + 1) * H] for j in range(3))
    # dn_pre = dh * k_n, dz_pre = dh * k_z, dr_pre = dn_pre * k_r (all steps at once)
    k_n = n * n
    xp.subtract(1, k_n, out=k_n)
    k_n *= 1 - z
    k_z = h_prev - n
    k_z *= z
    k_z *= 1 - z
    k_r = 1 - r
    k_r *= r
    k_r *= hn_all
    da_h = xp.empty_like(gates)  # (r, z, n) gradients on the hidden side
    da_n = xp.empty_like(n)  # the new gate's input-side gradient (not scaled by r)
    for s, b in reversed(steps):
        e = s + b
        d = dh[:b] + gy[s:e]
        an = xp.multiply(d, k_n[s:e], out=da_n[s:e])
        dv = da_h[s:e]
        xp.multiply(an, k_r[s:e], out=dv[:, :H])
        xp.multiply(d, k_z[s:e], out=dv[:, H:2 * H])
        xp.multiply(an, r[s:e], out=dv[:, 2 * H:])
        d *= z[s:e]
        d += dv @ w_hh
        dh[:b] = d
    da_in = xp.concatenate([da_h[:, :2 * H], da_n], axis=1)
    return da_in, da_h, None


_MODES = {
    "RNN_TANH": (lambda *a: _rnn_forward(*a, relu=False),
                 lambda *a: _rnn_backward(*a, relu=False)),
    "RNN_RELU": (lambda *a: _rnn_forward(*a, relu=True),
                 lambda *a: _rnn_backward(*a, relu=True)),
    "LSTM": (_lstm_forward, _lstm_backward),
    "GRU": (_gru_forward, _gru_backward),
}


class RecurrentLayer(Function):
    """One direction of one recurrent layer over all time steps.

    forward(x (N, I), h0 (B, P), c0 (B, H) or None, w_ih, w_hh, b_ih, b_hh, w_hr) with
    mode ("RNN_TANH", "RNN_RELU", "LSTM", "GRU"), batch_sizes (one per time step) and
    reverse; returns (y (N, P), h_n) or, for LSTM, (y, h_n, c_n).
    """

    # BPTT is written with in-place array updates; second derivatives are not supported.
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, *, mode, batch_sizes,
                reverse):
        xp = backend.of(x)
        steps = _steps(batch_sizes, reverse)
        outputs, saved = _MODES[mode][0](xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr,
                                         steps)
        if ctx.needs_input_grad:
            ctx.mode, ctx.steps = mode, steps
            ctx.save_for_backward(x, w_ih, w_hh, w_hr, outputs[0], *saved)
        return outputs

    @staticmethod
    def backward(ctx, gy, gh, gc=None):
        xp = ctx.xp
        x, w_ih, w_hh, w_hr, y, *saved = ctx.saved_arrays
        need = ctx.needs_input_grad
        lstm = ctx.mode == "LSTM"
        dh = gh.copy()
        dc = gc.copy() if lstm else None
        da_in, da_h, g_hr = _MODES[ctx.mode][1](xp, saved, y, gy, dh, dc, w_hh, w_hr,
                                                ctx.steps)
        h_prev = saved[1] if lstm or ctx.mode == "GRU" else saved[0]
        gx = da_in @ w_ih if need[0] else None
        g_ih = da_in.T @ x if need[3] else None
        g_hh = da_h.T @ h_prev if need[4] else None
        g_bih = da_in.sum(axis=0) if need[5] else None
        g_bhh = da_h.sum(axis=0) if need[6] else None
        return (gx, dh if need[1] else None, dc if lstm and need[2] else None,
                g_ih, g_hh, g_bih, g_bhh, g_hr if need[7] else None)

