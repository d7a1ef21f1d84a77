"""The hand-written backward passes of engine/ops.py against autograd's, and the
attention helper's code paths against each other."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sup.engine import ops
from sup.engine.attention import causal_attention


def reference_rope(x, cos, sin):
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


def angles(T: int, half: int, dtype=torch.float64):
    theta = torch.rand(T, 1, half, dtype=dtype, generator=torch.Generator().manual_seed(3)) * 6
    return theta.cos(), theta.sin()


def test_rms_norm_matches_torch_and_its_gradient_is_exact():
    x = torch.randn(3, 5, 16, dtype=torch.float64, requires_grad=True)
    with_grad = ops.rms_norm(x)
    torch.testing.assert_close(with_grad, F.rms_norm(x, (16,), eps=ops.EPS))
    assert torch.autograd.gradcheck(ops.rms_norm, (x,))
    with torch.no_grad():  # the same values with and without the autograd wrapper
        assert torch.equal(ops.rms_norm(x), with_grad)


def test_relu2_gradient_is_exact():
    x = torch.randn(4, 33, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(ops.relu2(x), F.relu(x).square())
    assert torch.autograd.gradcheck(ops.relu2, (x,))


def test_rope_matches_the_rotation_and_its_gradient_is_exact():
    x = torch.randn(2, 7, 3, 8, dtype=torch.float64, requires_grad=True)
    cos, sin = angles(7, 4)
    torch.testing.assert_close(ops.rope(x, cos, sin), reference_rope(x, cos, sin))
    assert torch.autograd.gradcheck(lambda t: ops.rope(t, cos, sin), (x,))
    # a rotation keeps lengths: pairs (i, i + half) keep their norm
    y = ops.rope(x, cos, sin).detach()
    pair_norm = lambda t: t[..., :4] ** 2 + t[..., 4:] ** 2  # noqa: E731
    torch.testing.assert_close(pair_norm(y), pair_norm(x.detach()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_ops_gradients_in_training_dtypes_match_autograd(dtype):
    """In bf16 the hand-written backward agrees with autograd's to bf16 precision."""
    torch.manual_seed(0)
    x = torch.randn(4, 6, 2, 3, 32, dtype=dtype)
    cos, sin = angles(6, 16, torch.float32)
    cos, sin = cos[:, :, None], sin[:, :, None]
    g = torch.randn_like(x)

    def grads(fn):
        t = x.clone().requires_grad_(True)
        fn(t).backward(g)
        return t.grad.float()

    tol = {"rtol": 2e-2, "atol": 2e-2} if dtype == torch.bfloat16 else {}
    for mine, ref in (
        (ops.rms_norm, lambda t: F.rms_norm(t.float(), (32,), eps=ops.EPS).to(dtype)),
        (ops.relu2, lambda t: F.relu(t).square()),
        (
            lambda t: ops.rope(t, cos, sin),
            lambda t: reference_rope(t, cos.to(dtype), sin.to(dtype)),
        ),
    ):
        torch.testing.assert_close(grads(mine), grads(ref), **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("head_dim", [16, 64])
def test_attention_paths_agree(dtype, head_dim):
    """Whole context (is_causal), one new token, a chunk after a prefix and the traced
    mask give the same outputs for the same positions."""
    torch.manual_seed(1)
    B, H, S = 2, 3, 12
    q, k, v = (torch.randn(B, H, S, head_dim, dtype=dtype) for _ in range(3))
    full = causal_attention(q, k, v)
    assert full.dtype == dtype
    tol = {"rtol": 2e-2, "atol": 2e-2} if dtype == torch.bfloat16 else {}
    for T in (1, 5, S):
        q_new = q[:, :, S - T :]
        for traced in (False, True):
            got = causal_attention(q_new, k, v, traced=traced)
            torch.testing.assert_close(got, full[:, :, S - T :], **tol)
