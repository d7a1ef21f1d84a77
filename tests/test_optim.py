"""The modern training options: Muon (its orthogonalisation, its AdamW half equal to
PyTorch's AdamW, which parameters it takes) and the depth dial (what one number
derives, and that explicit keys win). Exact resume under Muon is one of
test_train_resume.py's conditions."""

from __future__ import annotations

import json

import pytest
import torch

from helpers import sets, sup_ok
from sup.engine.config import TrainConfig, depth_rules, load_config
from sup.engine.model import GPT
from sup.engine.muon import MuonAdamW, muon_groups, orthogonalize
from sup.errors import UsageError


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(64, 64), (32, 96), (96, 32)])
def test_orthogonalize_pushes_every_singular_value_towards_one(shape, dtype):
    g = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    g[:, 0] *= 10  # one direction dominates the raw gradient
    out = orthogonalize(g, dtype=dtype)
    before, after = torch.linalg.svdvals(g), torch.linalg.svdvals(out)
    assert after.max() < 1.3  # the quintic's band around 1, not exactly 1
    assert (after > 0.5).float().mean() > 0.85  # nearly every direction moves alike
    assert after.max() / after.median() < 2 < before.max() / before.median()
    assert out.shape == g.shape and out.dtype == g.dtype


def test_newton_schulz_in_bf16_stays_close_to_fp32():
    g = torch.randn(96, 32, generator=torch.Generator().manual_seed(1))
    exact, fast = orthogonalize(g), orthogonalize(g, dtype=torch.bfloat16)
    assert (fast - exact).norm() / exact.norm() < 0.03


def test_the_adamw_half_steps_exactly_as_pytorchs_adamw():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(8, 4))
    b = torch.nn.Parameter(a.detach().clone())
    ours = MuonAdamW([{"params": [a], "lr": 1e-2, "betas": (0.9, 0.99),
                       "weight_decay": 0.1}])  # fmt: skip
    theirs = torch.optim.AdamW([b], lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1, eps=1e-8,
                               foreach=False)  # fmt: skip
    for step in range(5):
        grad = torch.randn(8, 4, generator=torch.Generator().manual_seed(step))
        a.grad, b.grad = grad.clone(), grad.clone()
        ours.step()
        theirs.step()
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    cfg = TrainConfig(arch="modern", n_layer=2, n_head=2, n_embd=32, block_size=16,
                      optimizer="muon").resolved()  # fmt: skip
    model = GPT(cfg.model_config(50))
    named = list(model.named_parameters())
    muon, matrices, vectors = muon_groups(named, cfg)
    names = {id(p): n for n, p in named}
    assert muon["use_muon"] and muon["lr_scale"] == cfg.muon_lr / cfg.learning_rate
    assert all(names[id(p)].startswith("blocks.") and p.dim() == 2 for p in muon["params"])
    assert [names[id(p)] for p in matrices["params"]] == ["wte.weight"]  # tied to the head
    assert all(p.dim() < 2 for p in vectors["params"]) and vectors["weight_decay"] == 0
    assert len(muon["params"]) + 1 + len(vectors["params"]) == len(named)


def test_a_run_with_muon_learns(tmp_path, char_data):
    out = tmp_path / "run"
    sup_ok("train", "--data", char_data, "--out", out, "--quiet",
           *sets(max_iters=30, eval_interval=30, arch="modern", optimizer="muon"))  # fmt: skip
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["loss"] < lines[0]["loss"] - 0.5


def test_depth_derives_the_model_and_its_budget_and_explicit_keys_win(tmp_path):
    cfg = load_config(None, ["depth=3", "batch_size=8", "block_size=64"])
    derived = depth_rules(cfg)
    assert (cfg.n_layer, cfg.n_embd, cfg.n_head) == (3, 192, 3)
    assert cfg.learning_rate == pytest.approx(3e-3 * (256 / 192) ** 0.5)
    tokens = 20 * 12 * 3 * 192**2
    assert cfg.max_iters == derived["max_iters"] == -(-tokens // (8 * 64))
    two = load_config(None, ["depth=3", "batch_size=8", "block_size=64"], processes=2)
    assert two.max_iters == -(-tokens // (2 * 8 * 64))  # DDP: every process's batch counts
    mine = load_config(None, ["depth=3", "n_embd=96", "max_iters=7"])
    assert (mine.n_layer, mine.n_embd, mine.max_iters) == (3, 96, 7)
    with pytest.raises(UsageError, match="depth must be"):
        load_config(None, ["depth=-1"])


def test_sup_train_takes_the_dial(tmp_path, char_data):
    out = tmp_path / "run"
    sup_ok("train", "--data", char_data, "--out", out, "--quiet", "--set", "depth=1",
           "--set", "max_iters=3", "--set", "block_size=16", "--set", "batch_size=4",
           "--set", "device=cpu", "--set", "eval_interval=3", "--set", "eval_iters=1")  # fmt: skip
    config = json.loads((out / "run.json").read_text())["config"]
    assert (config["depth"], config["n_layer"], config["n_embd"]) == (1, 1, 64)


def test_a_time_budget_keys_the_decay_on_seconds_and_stops_there(tmp_path, char_data):
    from sup.engine.train import lr_at

    cfg = TrainConfig(time_budget=10.0, warmup_iters=2, learning_rate=1e-3, min_lr=1e-4)
    assert lr_at(0, cfg, 0.0) < 1e-3  # warmup stays in steps
    assert lr_at(50, cfg, 0.0) == pytest.approx(1e-3)
    assert lr_at(50, cfg, 5.0) == pytest.approx(5.5e-4)  # half the seconds: half way down
    assert lr_at(5, cfg, 10.0) == pytest.approx(1e-4)  # few steps, but the time is spent
    out = tmp_path / "run"
    result = json.loads(sup_ok("train", "--data", char_data, "--out", out, "--quiet", "--json",
                               *sets(max_iters=10**9, eval_interval=10**6, time_budget=1.0)
                               ).stdout)  # fmt: skip
    assert result["finished"] and result["val_loss"] is not None
    assert 1 < result["step"] < 10**9
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["lr"] < 0.2 * lines[len(lines) // 4]["lr"]  # it cooled down in time


def tiny_moe(**extra) -> GPT:
    cfg = TrainConfig(arch="modern", n_layer=1, n_head=2, n_embd=16, block_size=8,
                      mlp="moe", moe_experts=4, moe_top_k=2, **extra).resolved()  # fmt: skip
    torch.manual_seed(0)
    return GPT(cfg.model_config(20))


def test_a_token_is_routed_to_top_k_experts_weighted_by_normalised_scores():
    model = tiny_moe()
    moe = model.blocks[0].mlp
    x = torch.randn(3, 5, 16)
    scores = torch.sigmoid(moe.router(x))
    want = torch.zeros_like(x)
    for idx in torch.cartesian_prod(torch.arange(3), torch.arange(5)):
        b, t = idx.tolist()
        top = torch.topk(scores[b, t], 2).indices
        gates = scores[b, t, top] / scores[b, t, top].sum()
        for g, e in zip(gates, top.tolist(), strict=True):
            want[b, t] += g * moe.experts[e](x[b, t])
    torch.testing.assert_close(moe.eval()(x), want, rtol=1e-5, atol=1e-6)


def test_the_bias_moves_load_towards_balance_without_a_gradient():
    from sup.engine.moe import update_bias

    model = tiny_moe().train()
    moe = model.blocks[0].mlp
    with torch.no_grad():
        moe.router.weight.zero_()
        moe.router.weight[0] += 1.0  # expert 0 wins every token with positive inputs
    moe(torch.rand(4, 8, 16) + 0.1)
    (shares,) = update_bias(model, dict(model.named_parameters()), rate=0.01)
    assert shares[0] > 0.25 and abs(sum(shares) - 1) < 1e-3
    assert moe.bias[0] == pytest.approx(-0.01) and moe.load.sum() == 0
    assert not moe.bias.requires_grad


def test_a_moe_run_logs_expert_load_and_exports_with_parity(tmp_path, char_data):
    out, bundle = tmp_path / "run", tmp_path / "bundle"
    moe = {"arch": "modern", "mlp": "moe", "moe_shared": True}
    sup_ok("train", "--data", char_data, "--out", out, "--quiet",
           *sets(max_iters=20, eval_interval=20, **moe))  # fmt: skip
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(len(r["moe_load"]) == 1 and len(r["moe_load"][0]) == 4 for r in lines)
    assert all(abs(sum(r["moe_load"][0]) - 1) < 1e-3 for r in lines)
    sup_ok("export", out, "--out", bundle)  # refused unless ONNX Runtime matches PyTorch
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["model"]["mlp"] == "moe" and manifest["parity"]["kv_greedy"]["match"]
