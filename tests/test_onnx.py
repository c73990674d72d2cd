"""The optional ONNX backend: pipeline checks (always), export and torch-free embedding (slow, needs the extra)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from recommender.embed import Embedder
from recommender.onnx import check_pipeline
from recommender.schema import PaperrecError, UsageError

from .conftest import EXAMPLE_LISTING, REPO

TEXTS = [
    "Video super-resolution with recurrent transformers. We upscale frames.",
    "Protein structure prediction from sequence.",
    "A short one.",
]


def _model_dir(tmp_path, modules, pooling=None):
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling or {"pooling_mode_mean_tokens": True}))
    return folder


def test_pipeline_check_refuses_what_it_cannot_reproduce(tmp_path):
    transformer = {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"}
    pooling = {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
    normalize = {"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
    check_pipeline(_model_dir(tmp_path / "a", [transformer, pooling, normalize]))
    with pytest.raises(PaperrecError, match="mean pooling only"):
        check_pipeline(_model_dir(tmp_path / "b", [transformer, pooling], {"pooling_mode_cls_token": True}))
    dense = {"idx": 2, "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    with pytest.raises(PaperrecError, match="supports transformer"):
        check_pipeline(_model_dir(tmp_path / "c", [transformer, pooling, dense]))


def test_backends_have_their_own_cache_keys():
    keys = {Embedder(backend=b).cache_key for b in ("torch", "onnx", "onnx-int8")}
    assert len(keys) == 3 and all(k.endswith("|256") for k in keys)
    assert Embedder(backend="onnx-int8", max_seq_length=128).cache_key.endswith("|onnx-int8|128")
    with pytest.raises(UsageError, match="unknown backend"):
        Embedder(backend="tensorrt")


needs_onnx = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
    reason="the onnx extra is not installed",
)


@pytest.mark.slow
@needs_onnx
def test_export_once_then_embed_without_torch(home):
    torch_vectors = Embedder().encode(TEXTS)
    onnx = Embedder(backend="onnx")
    vectors = onnx.encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999  # same model, same numbers
    int8 = Embedder(backend="onnx-int8").encode(TEXTS)
    similarity = (int8 * torch_vectors).sum(axis=1)
    assert similarity.min() > 0.97 and similarity.min() < 0.99999  # close, but really quantized
    exported = sorted(p.name for p in (home / "models" / "onnx").iterdir())
    assert exported == ["sentence-transformers_all-MiniLM-L6-v2"]

    env = {**os.environ, "PAPERREC_HOME": str(home)}
    command = [sys.executable, "-X", "importtime", "-m", "recommender", "rank", str(EXAMPLE_LISTING)]
    command += ["--profile", "profiles/super-resolution.toml", "--backend", "onnx", "-f", "json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "onnxruntime" in imported and "torch" not in imported and "sentence_transformers" not in imported
    assert "exporting" not in result.stderr  # exported once, above
    assert len(json.loads(result.stdout)) == 10
