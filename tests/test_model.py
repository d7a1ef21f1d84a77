"""The GPT module: KV-cache equivalence, parameter counts, architecture differences."""

from __future__ import annotations

import pytest
import torch

from sup.engine.generate import generate
from sup.engine.model import GPT, KVCache, ModelConfig

VOCAB, BLOCK, C, LAYERS, HEADS = 23, 24, 32, 2, 4

VARIANTS = [
    pytest.param("base", "gelu", 0.0, id="base-gelu"),
    pytest.param("base", "gelu", 3.0, id="base-gelu-softcap"),
    pytest.param("modern", "relu2", 0.0, id="modern-relu2"),
    pytest.param("modern", "relu2", 2.0, id="modern-relu2-softcap"),
    pytest.param("modern", "swiglu", 0.0, id="modern-swiglu"),
    pytest.param("modern", "swiglu", 5.0, id="modern-swiglu-softcap"),
]


def make_model(arch: str, mlp: str, softcap: float, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        vocab_size=VOCAB, block_size=BLOCK, n_layer=LAYERS, n_head=HEADS, n_embd=C,
        arch=arch, mlp=mlp, softcap=softcap, dropout=0.1,
    )  # fmt: skip
    model = GPT(cfg)
    # Init weights (std 0.02) give near-uniform logits at every position; spread them so
    # that a cache bug (wrong position, wrong mask, stale keys) moves the logits visibly.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize(("arch", "mlp", "softcap"), VARIANTS)
def test_kv_cache_matches_uncached_forward(arch, mlp, softcap):
    model = make_model(arch, mlp, softcap)
    gen = torch.Generator().manual_seed(1)
    idx = torch.randint(0, VOCAB, (2, BLOCK), generator=gen)
    with torch.no_grad():
        full = model(idx)[0]
        # the check below is only meaningful if positions really differ
        assert (full[:, 1:] - full[:, :-1]).abs().max() > 1e-2

        prefill = 5
        cache = KVCache(model.cfg, batch=2)
        out = model(idx[:, :prefill], cache)[0]
        torch.testing.assert_close(out, full[:, :prefill], atol=1e-5, rtol=0)
        assert cache.pos == prefill
        for t in range(prefill, BLOCK):
            step = model(idx[:, t : t + 1], cache)[0]
            torch.testing.assert_close(step[:, 0], full[:, t], atol=1e-5, rtol=0)
        assert cache.pos == BLOCK


@pytest.mark.parametrize(("arch", "mlp", "softcap"), VARIANTS)
def test_kv_cache_chunk_after_prefix(arch, mlp, softcap):
    """Several new tokens after a cached prefix (the shifted causal mask path)."""
    model = make_model(arch, mlp, softcap, seed=3)
    idx = torch.randint(0, VOCAB, (1, BLOCK), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = model(idx)[0]
        cache = KVCache(model.cfg, batch=1)
        pieces = [model(idx[:, a:b], cache)[0] for a, b in ((0, 7), (7, 11), (11, BLOCK))]
        torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)
        # last_only returns just the final position
        cache.reset()
        model(idx[:, :10], cache)
        last = model(idx[:, 10:15], cache, last_only=True)[0]
        assert last.shape == (1, 1, VOCAB)
        torch.testing.assert_close(last[:, 0], full[:, 14], atol=1e-5, rtol=0)


def test_cache_is_needed_for_the_offset():
    """Feeding a token without its cached prefix gives different logits: the equality
    above is not an accident of position-independent outputs."""
    model = make_model("modern", "relu2", 0.0)
    idx = torch.randint(0, VOCAB, (1, 8), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        full = model(idx)[0]
        alone = model(idx[:, 7:8])[0]
    assert (alone[:, 0] - full[:, 7]).abs().max() > 1e-3


def test_sequence_longer_than_block_is_rejected():
    model = make_model("base", "gelu", 0.0)
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, BLOCK + 1, dtype=torch.long))
    cache = KVCache(model.cfg, batch=1)
    model(torch.zeros(1, BLOCK - 1, dtype=torch.long), cache)
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 2, dtype=torch.long), cache)


def test_softcap_bounds_logits():
    model = make_model("modern", "relu2", 2.0)
    with torch.no_grad():
        logits = model(torch.randint(0, VOCAB, (2, BLOCK)))[0]
    assert logits.abs().max() <= 2.0
    uncapped = make_model("modern", "relu2", 0.0)
    with torch.no_grad():
        assert uncapped(torch.randint(0, VOCAB, (2, BLOCK)))[0].abs().max() > 2.0


@pytest.mark.parametrize(("arch", "mlp", "softcap"), VARIANTS)
def test_greedy_generation_cached_equals_uncached(arch, mlp, softcap):
    model = make_model(arch, mlp, softcap, seed=5)
    prompt = [1, 2, 3]
    n = BLOCK - len(prompt)  # stays inside one window, where the two paths must agree
    cached = list(generate(model, prompt, n, temperature=0, use_cache=True))
    uncached = list(generate(model, prompt, n, temperature=0, use_cache=False))
    assert cached == uncached
    assert len(cached) == n
    assert len(set(cached)) > 1  # not a degenerate constant output


def test_generation_runs_past_the_block():
    model = make_model("base", "gelu", 0.0, seed=6)
    gen = torch.Generator().manual_seed(0)
    out = list(generate(model, [0], 3 * BLOCK, temperature=1.0, generator=gen))
    assert len(out) == 3 * BLOCK
    assert all(0 <= t < VOCAB for t in out)


def test_stop_and_banned_ids():
    model = make_model("base", "gelu", 0.0, seed=7)
    greedy = list(generate(model, [0], 5, temperature=0))
    first = greedy[0]
    assert list(generate(model, [0], 5, temperature=0, stop_ids=(first,))) == [first]
    banned = list(generate(model, [0], 10, temperature=0, banned_ids=(first,)))
    assert first not in banned


# ----------------------------------------------------------------------------- stats


def expected_base_params(V: int, B: int, C: int, L: int) -> int:
    per_layer = (
        2 * C + 2 * C  # ln1, ln2 (weight + bias)
        + C * 3 * C + 3 * C  # qkv
        + C * C + C  # attn proj
        + C * 4 * C + 4 * C  # mlp fc
        + 4 * C * C + C  # mlp proj
    )  # fmt: skip
    return V * C + B * C + L * per_layer + 2 * C  # wte (tied, once) + wpe + blocks + ln_f


def test_stats_base_counts_tied_embedding_once():
    cfg = ModelConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=LAYERS, n_head=HEADS, n_embd=C)
    model = GPT(cfg)
    stats = model.stats()
    expected = expected_base_params(VOCAB, BLOCK, C, LAYERS)
    assert stats.params == expected
    # the head is the embedding: the state dict holds it twice, the count once
    assert model.lm_head.weight is model.wte.weight
    state_numel = sum(t.numel() for t in model.state_dict().values())
    assert state_numel == expected + VOCAB * C
    assert stats.non_embedding_params == expected - VOCAB * C - BLOCK * C
    n_no_pos = expected - BLOCK * C
    assert stats.flops_per_token == 6 * n_no_pos + 12 * LAYERS * C * BLOCK


@pytest.mark.parametrize("mlp", ["relu2", "swiglu"])
def test_stats_modern_has_no_bias_and_no_norm_params(mlp):
    cfg = ModelConfig(
        vocab_size=VOCAB, block_size=BLOCK, n_layer=LAYERS, n_head=HEADS, n_embd=C,
        arch="modern", mlp=mlp,
    )  # fmt: skip
    model = GPT(cfg)
    names = [name for name, _ in model.named_parameters()]
    assert not [n for n in names if n.endswith("bias")]
    assert all(p.dim() == 2 for p in model.parameters())  # RMSNorm is parameter-free
    assert model.wpe is None  # RoPE: no learned positions
    hidden = 4 * C if mlp == "relu2" else int(8 * C / 3 + 7) // 8 * 8
    fc_out = hidden if mlp == "relu2" else 2 * hidden
    per_layer = 3 * C * C + C * C + C * fc_out + hidden * C
    expected = VOCAB * C + LAYERS * per_layer
    stats = model.stats()
    assert stats.params == expected
    assert stats.non_embedding_params == expected - VOCAB * C
    assert stats.flops_per_token == 6 * expected + 12 * LAYERS * C * BLOCK


def test_base_has_biases_and_modern_is_smaller():
    base = GPT(ModelConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=1, n_head=2, n_embd=C))
    modern = GPT(
        ModelConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=1, n_head=2, n_embd=C,
                    arch="modern", mlp="relu2")
    )  # fmt: skip
    assert any(n.endswith("bias") for n, _ in base.named_parameters())
    assert modern.stats().params < base.stats().params


def test_unknown_arch_is_rejected():
    with pytest.raises(ValueError, match="arch"):
        GPT(ModelConfig(vocab_size=VOCAB, arch="rnn"))


def test_dropout_only_in_training_mode():
    model = make_model("base", "gelu", 0.0)
    idx = torch.randint(0, VOCAB, (2, BLOCK), generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        a, b = model(idx)[0], model(idx)[0]
        assert torch.equal(a, b)
        model.train()
        torch.manual_seed(0)
        c = model(idx)[0]
    assert not torch.equal(a, c)


def test_attention_dropout_can_be_left_out():
    """attention_dropout = false drops the residual stream only: attention runs with
    dropout_p 0 (PyTorch's flash kernel on CPU)."""
    from unittest import mock

    import sup.engine.model as model_module

    cfg = ModelConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=1, n_head=2, n_embd=32,
                      dropout=0.3, attention_dropout=False, arch="modern")  # fmt: skip
    model = GPT(cfg).train()
    assert model.blocks[0].attn.dropout == 0.0
    assert model.blocks[0].attn.resid_dropout.p == 0.3
    idx = torch.randint(0, VOCAB, (2, BLOCK), generator=torch.Generator().manual_seed(8))
    seen, real = [], model_module.causal_attention

    def spy(*args, **kwargs):  # the real kernel, its dropout_p recorded
        seen.append(kwargs["dropout_p"])
        return real(*args, **kwargs)

    with mock.patch.object(model_module, "causal_attention", spy):
        model(idx)
    assert seen == [0.0]
    with_attention = GPT(ModelConfig(**{**cfg.__dict__, "attention_dropout": True})).train()
    assert with_attention.blocks[0].attn.dropout == 0.3
