"""Checkpoints in every layout, built here: reading, roles, a planted BBP spike, bf16 = f32, hostile inputs, exit codes.

Each checkpoint is a small random model (iid N(0, sigma^2) weights) in which exactly one known matrix
carries a rank-one spike theta u v^T with theta = 4 sigma (pn)^(1/4), four times the BBP threshold
(docs/design.md §3). The spike tests run at alpha = 1e-3 per matrix, so on the Gaussian matrices a false
spike somewhere in a checkpoint has probability <= (number of matrices) x 1e-3 <= 2.5 % (Bonferroni):
"found there and nowhere else" can fail, but a failure means a bug, not bad luck, at this rate.
"""

import json
import os
import pickle
import struct
import zipfile

import ml_dtypes
import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file
from threadpoolctl import threadpool_limits

from rmt_sparsity.cli.analyze import main
from rmt_sparsity.spectra import CheckpointError, analyze, bbp_outlier, bbp_threshold, classify_tensor, open_checkpoint

SIGMA = 0.02
THETA_OVER_THRESHOLD = 4.0
ALPHA = 1e-3
FAST = dict(n_boot=0, n_mc=40, alpha=ALPHA, progress=False)
CLI_FAST = ["--n-boot", "0", "--n-mc", "40", "--alpha", str(ALPHA), "--quiet"]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _gauss(g, shape):
    return SIGMA * g.standard_normal(shape)


def _spiked(g, shape):
    """Gaussian (out, in) matrix plus theta u v^T, theta = 4 x the BBP threshold sigma (pn)^(1/4)."""
    p, n = shape
    u, v = g.standard_normal(p), g.standard_normal(n)
    theta = THETA_OVER_THRESHOLD * bbp_threshold(p, n, scale=SIGMA**2)
    return _gauss(g, shape) + theta * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))


# ----------------------------------------------------------------------------- the three layouts

D, FF, VOCAB, LAYERS = 64, 192, 160, 2
LLAMA_SPIKE = "model.layers.1.mlp.gate_proj.weight"
LLAMA_ROLES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_o",
               "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_out"}


def llama_weights(seed=0) -> dict:
    """A tiny LLaMA-style model, (out, in) float64 arrays; the spike in layer 1's gate_proj."""
    g = np.random.default_rng(seed)
    w = {"model.embed_tokens.weight": _gauss(g, (VOCAB, D)), "lm_head.weight": _gauss(g, (VOCAB, D)),
         "model.norm.weight": np.ones(D)}
    for i in range(LAYERS):
        pre = f"model.layers.{i}"
        for nm in ("q_proj", "k_proj", "v_proj", "o_proj"):
            w[f"{pre}.self_attn.{nm}.weight"] = _gauss(g, (D, D))
        w[f"{pre}.mlp.gate_proj.weight"] = _gauss(g, (FF, D))
        w[f"{pre}.mlp.up_proj.weight"] = _gauss(g, (FF, D))
        w[f"{pre}.mlp.down_proj.weight"] = _gauss(g, (D, FF))
        w[f"{pre}.input_layernorm.weight"] = np.ones(D)
        w[f"{pre}.post_attention_layernorm.weight"] = np.ones(D)
    w[LLAMA_SPIKE] = _spiked(g, (FF, D))
    return w


def write_sharded_bf16(weights, folder):
    """bf16 safetensors over two shards plus model.safetensors.index.json (the Hugging Face layout)."""
    os.makedirs(folder, exist_ok=True)
    names = sorted(weights)
    half = {n: ("model-00001-of-00002.safetensors" if i % 2 == 0 else "model-00002-of-00002.safetensors")
            for i, n in enumerate(names)}
    for shard in sorted(set(half.values())):
        save_file({n: weights[n].astype(ml_dtypes.bfloat16) for n in names if half[n] == shard},
                  os.path.join(folder, shard))
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as fh:
        json.dump({"metadata": {"total_size": 0}, "weight_map": half}, fh)
    return folder


GPT2_SPIKE = "h.1.attn.c_attn.weight:v"


def gpt2_weights(seed=1) -> dict:
    """A tiny GPT-2: Conv1D weights stored (in, out); the spike in layer 1's value block of c_attn."""
    g = np.random.default_rng(seed)
    w = {"wte.weight": _gauss(g, (VOCAB, D)), "wpe.weight": _gauss(g, (128, D)), "ln_f.weight": np.ones(D)}
    for i in range(LAYERS):
        qkv = np.concatenate([_gauss(g, (D, D)), _gauss(g, (D, D)), _spiked(g, (D, D)) if i == 1 else _gauss(g, (D, D))])
        w[f"h.{i}.attn.c_attn.weight"] = qkv.T  # (out, in) = (3d, d) stored (in, out)
        w[f"h.{i}.attn.c_attn.bias"] = np.zeros(3 * D)
        w[f"h.{i}.attn.c_proj.weight"] = _gauss(g, (D, D)).T
        w[f"h.{i}.mlp.c_fc.weight"] = _gauss(g, (4 * D, D)).T
        w[f"h.{i}.mlp.c_proj.weight"] = _gauss(g, (D, 4 * D)).T
        w[f"h.{i}.ln_1.weight"] = np.ones(D)
    # C order: safetensors.numpy writes an array's memory order, so a transposed view would be scrambled
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


BERT_SPIKE = "encoder.layer.0.output.dense.weight"


def bert_weights(seed=2) -> dict:
    g = np.random.default_rng(seed)
    w = {"embeddings.word_embeddings.weight": _gauss(g, (VOCAB, D)),
         "embeddings.position_embeddings.weight": _gauss(g, (128, D)),
         "embeddings.token_type_embeddings.weight": _gauss(g, (2, D)),
         "embeddings.position_ids": np.arange(128, dtype=np.int64)[None, :],
         "embeddings.LayerNorm.weight": np.ones(D), "pooler.dense.weight": _gauss(g, (D, D))}
    for i in range(LAYERS):
        pre = f"encoder.layer.{i}"
        for nm in ("query", "key", "value"):
            w[f"{pre}.attention.self.{nm}.weight"] = _gauss(g, (D, D))
        w[f"{pre}.attention.output.dense.weight"] = _gauss(g, (D, D))
        w[f"{pre}.intermediate.dense.weight"] = _gauss(g, (4 * D, D))
        w[f"{pre}.output.dense.weight"] = _spiked(g, (D, 4 * D)) if i == 0 else _gauss(g, (D, 4 * D))
        w[f"{pre}.output.dense.bias"] = np.zeros(D)
    return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in w.items()}


BERT_ROLES = {"attention.self.query": "attn_q", "attention.self.key": "attn_k", "attention.self.value": "attn_v",
              "attention.output.dense": "attn_o", "intermediate.dense": "ffn_in", "output.dense": "ffn_out"}


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpts")
    llama = llama_weights()
    paths = {"llama": write_sharded_bf16(llama, str(root / "llama"))}
    # the same weights, rounded to bf16, stored as f32 in one file (for bf16 == f32)
    save_file({k: v.astype(ml_dtypes.bfloat16).astype(np.float32) for k, v in llama.items()}, str(root / "llama_f32.safetensors"))
    paths["llama_f32"] = str(root / "llama_f32.safetensors")
    save_file(gpt2_weights(), str(root / "gpt2.safetensors"))
    paths["gpt2"] = str(root / "gpt2.safetensors")
    save_file(bert_weights(), str(root / "bert.safetensors"))
    paths["bert"] = str(root / "bert.safetensors")
    np.savez(root / "bert.npz", **bert_weights())
    paths["npz"] = str(root / "bert.npz")
    return paths


def _spiked_rows(df):
    return sorted(df.loc[(df["status"] == "ok") & (df["n_spikes"] > 0), "name"])


def _check_spike(row, p, n):
    """One outlier, at the BBP location of theta within 4 of its delta-method SEs (bbp_outlier)."""
    assert row["n_spikes"] == 1, row["name"]
    theta = THETA_OVER_THRESHOLD * bbp_threshold(p, n, scale=SIGMA**2)
    pred = bbp_outlier(theta, p, n, scale=SIGMA**2)
    assert abs(row["spike_eigenvalues"][0] - pred.location) < 4 * pred.se, (row["spike_eigenvalues"], pred)
    assert row["spike_p_values"][0] < ALPHA


# ----------------------------------------------------------------------------- layouts from Python


def test_llama_bf16_sharded_index(ckpts):
    with open_checkpoint(ckpts["llama"]) as ck:
        assert ck.format == "sharded" and len(ck.files) == 2
        assert {i.dtype for i in ck.values()} == {"BF16"}
    for source in (ckpts["llama"], os.path.join(ckpts["llama"], "model.safetensors.index.json")):
        df = analyze(source, **FAST)
        assert df.attrs["format"] == "sharded" and (df["status"] == "ok").all()
        assert len(df) == 2 + 7 * LAYERS and df.attrs["skipped"] == {"1-D (biases, norms)": 1 + 2 * LAYERS}
        assert (df["dtype"] == "bf16").all()
        for _, r in df.iterrows():
            leaf = r["name"].split(".")[-2]
            want = LLAMA_ROLES.get(leaf, {"embed_tokens": "embedding", "lm_head": "lm_head"}.get(leaf))
            assert r["role"] == want, r["name"]
            if r["name"].startswith("model.layers."):
                assert r["layer"] == int(r["name"].split(".")[2])
        assert _spiked_rows(df) == [LLAMA_SPIKE]
        _check_spike(df.set_index("name").loc[LLAMA_SPIKE].to_dict() | {"name": LLAMA_SPIKE}, FF, D)


def test_bf16_equals_f32(ckpts):
    a = analyze(ckpts["llama"], n_boot=10, n_mc=40, progress=False)
    b = analyze(ckpts["llama_f32"], n_boot=10, n_mc=40, progress=False)
    assert (a["dtype"] == "bf16").all() and (b["dtype"] == "f32").all()
    cols = [c for c in a.columns if c not in ("dtype", "file")]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)  # same float64 values in, same table out


def test_gpt2_conv1d_transposed_and_split(ckpts):
    df = analyze(ckpts["gpt2"], **FAST).set_index("name")
    assert (df["status"] == "ok").all()
    for i in range(LAYERS):
        for tag in ("q", "k", "v"):
            r = df.loc[f"h.{i}.attn.c_attn.weight:{tag}"]
            assert (r["role"], r["shape"], r["transposed"], r["layer"]) == (f"attn_{tag}", f"{D}x{D}", True, i)
        r = df.loc[f"h.{i}.mlp.c_fc.weight"]
        assert (r["role"], r["shape"], r["transposed"]) == ("ffn_in", f"{4 * D}x{D}", True)  # K = (d_ff, d_model)
        assert (df.loc[f"h.{i}.mlp.c_proj.weight", "role"], df.loc[f"h.{i}.mlp.c_proj.weight", "shape"]) == ("ffn_out", f"{D}x{4 * D}")
        assert df.loc[f"h.{i}.attn.c_proj.weight", "role"] == "attn_o"
    assert df.loc["wte.weight", "role"] == "embedding" and not df.loc["wte.weight", "transposed"]
    assert _spiked_rows(df.reset_index()) == [GPT2_SPIKE]  # the V block, not Q or K: split after the transpose
    _check_spike(df.loc[GPT2_SPIKE].to_dict(), D, D)


@pytest.mark.parametrize("key", ["bert", "npz"])
def test_bert_safetensors_and_npz(ckpts, key):
    df = analyze(ckpts[key], **FAST)
    assert df.attrs["format"] == ("npz" if key == "npz" else "safetensors")
    assert (df["status"] == "ok").all() and len(df) == 4 + 6 * LAYERS
    assert df.attrs["skipped"] == {"1-D (biases, norms)": 1 + LAYERS, "vector-shaped (a side < 2)": 1}
    for _, r in df.iterrows():
        want = next((role for suffix, role in BERT_ROLES.items() if r["name"].endswith(suffix + ".weight")), None)
        if r["name"].startswith("embeddings."):
            want = "embedding"
        elif r["name"].startswith("pooler"):
            want = "other"
        assert r["role"] == want, r["name"]
    assert _spiked_rows(df) == [BERT_SPIKE]
    _check_spike(df.set_index("name").loc[BERT_SPIKE].to_dict(), D, 4 * D)


def test_include_exclude_and_seeded_rows(ckpts):
    full = analyze(ckpts["bert"], n_boot=10, n_mc=40, progress=False).set_index("name")
    sub = analyze(ckpts["bert"], include=r"layer\.1\.", exclude="attention", n_boot=10, n_mc=40, progress=False)
    assert sorted(sub["name"]) == ["encoder.layer.1.intermediate.dense.weight", "encoder.layer.1.output.dense.weight"]
    assert sub.attrs["excluded"] == len(full) - 2
    # a row's numbers do not depend on which other matrices were selected (seeds per row name and shape)
    pd.testing.assert_frame_equal(sub.set_index("name"), full.loc[list(sub["name"])], check_exact=True)
    with pytest.raises(ValueError, match="select none"):
        analyze(ckpts["bert"], include="no-such-layer", progress=False)
    with pytest.raises(ValueError, match="regular expression"):
        analyze(ckpts["bert"], include="(", progress=False)


def test_progress_bar(ckpts, capsys):
    analyze(ckpts["gpt2"], include="h.0.mlp", n_boot=0, progress=True)
    assert "analyze" in capsys.readouterr().err
    analyze(ckpts["gpt2"], include="h.0.mlp", n_boot=0, progress=False)
    assert capsys.readouterr().err == ""


def test_classify_tensor_layouts():
    cases = {
        ("encoder.block.3.layer.1.DenseReluDense.wi.weight", (256, 64)): ("ffn_in", 3),
        ("decoder.block.0.layer.2.DenseReluDense.wi_0.weight", (256, 64)): ("ffn_gate", 0),
        ("decoder.block.0.layer.2.DenseReluDense.wi_1.weight", (256, 64)): ("ffn_up", 0),
        ("encoder.block.3.layer.1.DenseReluDense.wo.weight", (64, 256)): ("ffn_out", 3),
        ("encoder.block.3.layer.0.SelfAttention.o.weight", (64, 64)): ("attn_o", 3),
        ("decoder.block.1.layer.1.EncDecAttention.k.weight", (64, 64)): ("attn_k", 1),
        ("vit.encoder.layer.5.attention.attention.query.weight", (768, 768)): ("attn_q", 5),
        ("vit.encoder.layer.5.intermediate.dense.weight", (3072, 768)): ("ffn_in", 5),
        ("blocks.2.mlp.fc2.weight", (768, 3072)): ("ffn_out", 2),
        ("blocks.2.attn.proj.weight", (768, 768)): ("attn_o", 2),
        ("model.layers.4.block_sparse_moe.gate.weight", (8, 4096)): ("router", 4),
        ("model.layers.4.block_sparse_moe.experts.3.w1.weight", (14336, 4096)): ("ffn_gate", 4),
        ("model.layers.4.block_sparse_moe.experts.3.w3.weight", (14336, 4096)): ("ffn_up", 4),
        ("model.layers.0.mlp.experts.12.down_proj.weight", (4096, 1408)): ("ffn_out", 0),
        ("gpt_neox.layers.1.attention.query_key_value.weight", (192, 64)): ("attn_qkv", 1),
        ("transformer.h.7.mlp.c_proj.weight", (3072, 768)): ("ffn_out", 7),
        ("classifier.weight", (2, 768)): ("other", None),
    }
    for (name, shape), (role, layer) in cases.items():
        parts = classify_tensor(name, shape)
        assert [(p.role, p.layer) for p in parts] == [(role, layer)], name
    moe = classify_tensor("model.layers.4.block_sparse_moe.experts.3.w1.weight", (14336, 4096))[0]
    assert moe.expert == 3
    timm = classify_tensor("blocks.0.attn.qkv.weight", (2304, 768))
    assert [(p.role, p.transpose, p.extract(np.zeros((2304, 768))).shape) for p in timm] == [
        ("attn_q", False, (768, 768)), ("attn_k", False, (768, 768)), ("attn_v", False, (768, 768))]
    phi = classify_tensor("model.layers.0.mlp.gate_up_proj.weight", (16384, 3072))
    assert [p.role for p in phi] == ["ffn_gate", "ffn_up"]


# ----------------------------------------------------------------------------- the CLI, exit codes, hostile inputs


def test_cli_layouts_and_outputs(ckpts, tmp_path, capsys):
    for key, spike in (("llama", LLAMA_SPIKE), ("gpt2", GPT2_SPIKE), ("bert", BERT_SPIKE)):
        assert main([ckpts[key], "--json"] + CLI_FAST) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [r["name"] for r in rows if r["n_spikes"]] == [spike], key
    # --out: tables, report and one figure per matrix (three matrices: figures are slow to draw)
    out = tmp_path / "gpt2"
    assert main([ckpts["gpt2"], "--out", str(out), "--include", r"h\.1\.attn\.c_attn"] + CLI_FAST) == 0
    rows = json.loads((out / "layers.json").read_text())["rows"]
    assert [r["name"] for r in rows] == [f"h.1.attn.c_attn.weight:{t}" for t in "qkv"]
    assert [r["name"] for r in rows if r["n_spikes"]] == [GPT2_SPIKE]
    csv = pd.read_csv(out / "layers.csv")
    assert list(csv["name"]) == [r["name"] for r in rows] and json.loads(csv["spike_p_values"][2])[0] < ALPHA
    html = (out / "report.html").read_text()
    assert GPT2_SPIKE in html and "<table>" in html and "figures/h.1.attn.c_attn.weight_v.png" in html
    figs = sorted(p.name for p in (out / "figures").iterdir())
    assert figs == [f"h.1.attn.c_attn.weight_{t}.png" for t in "kqv"]
    assert all((out / "figures" / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figs)
    capsys.readouterr()
    assert main([ckpts["bert"], "--n-boot", "0", "--n-mc", "40"]) == 0
    printed = capsys.readouterr().out
    assert "encoder.layer.0.output.dense.weight" in printed and "ffn_out" in printed and "1-D (biases, norms)" in printed
    assert main([ckpts["bert"], "--json"] + CLI_FAST) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4 + 6 * LAYERS


def _hostile_files(tmp_path):
    good = tmp_path / "good.safetensors"
    save_file({"a.weight": np.ones((8, 8), np.float32)}, str(good))
    raw = good.read_bytes()
    files = {}
    files["truncated"] = tmp_path / "truncated.safetensors"
    files["truncated"].write_bytes(raw[: len(raw) - 17])
    files["wrong magic"] = tmp_path / "magic.safetensors"
    files["wrong magic"].write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(64))
    files["header too long"] = tmp_path / "header.safetensors"
    files["header too long"].write_bytes(struct.pack("<Q", 10_000) + b'{"a": 1}')
    files["tiny"] = tmp_path / "tiny.safetensors"
    files["tiny"].write_bytes(b"\x01\x02")
    files["not json"] = tmp_path / "notjson.safetensors"
    files["not json"].write_bytes(struct.pack("<Q", 8) + b"{garbage")
    files["torch zip"] = tmp_path / "pytorch_model.bin"
    with zipfile.ZipFile(files["torch zip"], "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": [1.0]}))
    files["raw pickle"] = tmp_path / "model.pt"
    files["raw pickle"].write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    files["missing shard"] = tmp_path / "model.safetensors.index.json"
    files["missing shard"].write_text(json.dumps({"weight_map": {"a.weight": "model-00001-of-00002.safetensors"}}))
    files["bad npz"] = tmp_path / "bad.npz"
    files["bad npz"].write_bytes(b"PK\x03\x04 not really a zip")
    files["empty"] = tmp_path / "empty.safetensors"
    save_file({}, str(files["empty"]))
    return files


def test_unreadable_inputs_exit_2_with_one_line_and_nothing_written(tmp_path, capsys):
    for label, path in _hostile_files(tmp_path).items():
        out = tmp_path / f"out_{label.replace(' ', '_')}"
        assert main([str(path), "--out", str(out)] + CLI_FAST) == 2, label
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, (label, err)
        assert path.name in err, (label, err)
        assert not out.exists(), label
        with pytest.raises((CheckpointError, ValueError)):
            analyze(str(path), progress=False)
    err_bin = main([str(tmp_path / "pytorch_model.bin")])
    assert err_bin == 2 and "convert" in capsys.readouterr().err.lower()


def test_bad_tensors_become_error_rows_exit_1(tmp_path, capsys):
    g = np.random.default_rng(5)
    good = g.standard_normal((96, 32)).astype(np.float32)
    nan = good.copy()
    nan[3, 4] = np.nan
    inf = good.copy()
    inf[0, 0] = np.inf
    path = tmp_path / "bad.safetensors"
    save_file({"ok.weight": good, "nan.weight": nan, "inf.weight": inf, "zero.weight": np.zeros((16, 16), np.float32),
               "int.weight": np.ones((16, 16), np.int32), "mask.weight": np.ones((16, 16), np.bool_),
               "ln.weight": np.ones(32, np.float32)}, str(path))
    reasons = {"nan.weight": "non-finite entries of 3072 (NaN: 1, inf: 0)", "inf.weight": "(NaN: 0, inf: 1)",
               "zero.weight": "all-zero matrix", "int.weight": "integer tensor (I32)", "mask.weight": "boolean tensor (BOOL)"}
    df = analyze(str(path), n_boot=0, progress=False).set_index("name")
    assert df.loc["ok.weight", "status"] == "ok" and df.attrs["n_errors"] == 5
    for name, reason in reasons.items():
        assert df.loc[name, "status"] == "error" and reason in df.loc[name, "error"], (name, df.loc[name, "error"])
    out = tmp_path / "out"
    assert main([str(path), "--out", str(out)] + CLI_FAST) == 1
    err = capsys.readouterr().err
    for name, reason in reasons.items():
        assert f"{name}: " in err and reason in err
    rows = {r["name"]: r for r in json.loads((out / "layers.json").read_text())["rows"]}
    assert rows["ok.weight"]["status"] == "ok" and rows["int.weight"]["status"] == "error"
    # only 1-D tensors: one error row per tensor, saying there is no matrix
    only1d = tmp_path / "norms.safetensors"
    save_file({"ln.weight": np.ones(8, np.float32), "ln.bias": np.zeros(8, np.float32)}, str(only1d))
    assert main([str(only1d)] + CLI_FAST) == 1
    err = capsys.readouterr().err
    assert "ln.bias: 1-D (biases, norms): not a matrix, and the checkpoint holds no matrix to analyse" in err
    df = analyze(str(only1d), progress=False)
    assert list(df["status"]) == ["error", "error"]


def test_tiny_scale_matrix_is_analysed(tmp_path):
    # f64 x 1e-300: the Gram product of W itself underflows to 0; after the rescaling every scale-free
    # column equals the unscaled one to rounding (the rescaled matrices agree to ~1 ulp: 1e-12 relative
    # leaves room for the eigen-solver's eps x condition amplification at this size)
    W = np.random.default_rng(6).standard_normal((120, 40))
    df = analyze({"small.weight": W * 1e-300, "unit.weight": W}, n_boot=20, n_mc=40, progress=False).set_index("name")
    small, unit = df.loc["small.weight"], df.loc["unit.weight"]
    assert small["status"] == "ok"
    for col in ("concentration", "sv_ratio", "band_p_value", "stable_rank", "tail_alpha", "mp_ks"):
        assert small[col] == pytest.approx(unit[col], rel=1e-12), col
    assert small["n_spikes"] == unit["n_spikes"] and small["has_tail"] == unit["has_tail"]
    assert small["rms"] == pytest.approx(1e-300 * unit["rms"], rel=1e-14)
    assert small["mp_scale"] == 0.0  # sigma^2 ~ 1e-600 is below float64's range (module notes)


def test_out_checked_before_work(ckpts, tmp_path, capsys, monkeypatch):
    import rmt_sparsity.spectra as spectra

    def boom(*a, **k):
        raise AssertionError("analysis ran before --out was checked")

    monkeypatch.setattr(spectra, "analyze", boom)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    for bad in ("", str(tmp_path / "missing" / "out"), str(afile)):
        assert main([ckpts["bert"], "--out", bad]) == 2, bad
        err = capsys.readouterr().err
        assert "--out" in err and err.count("\n") == 1
    assert not (tmp_path / "missing").exists()


def test_boundary_errors_name_the_argument(tmp_path):
    path = str(tmp_path / "w.safetensors")
    save_file({"a.weight": np.eye(3, dtype=np.float32)}, path)
    with open_checkpoint(path) as ckpt:
        with pytest.raises(KeyError):  # still a mapping-style KeyError ...
            ckpt.read("nope")
        with pytest.raises(ValueError, match=r"name 'nope' is not a tensor of .*'a.weight'"):  # ... and a ValueError
            ckpt.read("nope")
        with pytest.raises(TypeError, match="name must be a tensor name"):
            ckpt.read(None)
    with pytest.raises(CheckpointError, match=r"source = .*no .safetensors file"):
        open_checkpoint(str(tmp_path / ".."))
    with pytest.raises(TypeError, match="source must be a path or a mapping"):
        open_checkpoint(1)
    with pytest.raises(ValueError, match="shape must be a tuple of 2 ints"):
        classify_tensor("fc.weight", (3,))
    with pytest.raises(ValueError, match="shape must be an integer >= 0"):
        classify_tensor("fc.weight", (3, -1))
    with pytest.raises(TypeError, match="name must be a tensor name"):
        classify_tensor(None, (3, 3))
