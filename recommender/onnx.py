"""The optional ONNX backend: export a sentence-transformers model once, then embed without torch.

Export (needs torch, once per model): the bare transformer goes to `model.onnx`, and an int8 copy is made by
onnxruntime's dynamic quantization. Embedding needs only onnxruntime, tokenizers and numpy, and reproduces
the model's Transformer -> mean Pooling -> Normalize pipeline; other pipelines are refused, not approximated.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .schema import PaperrecError

TOKENIZER_FILES = ("tokenizer.json", "sentence_bert_config.json", "config.json", "modules.json")
INSTALL_HINT = "install the ONNX extra: pip install 'paperrec[onnx]'"


def _require(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise PaperrecError(f"the ONNX backend needs {module}: {INSTALL_HINT}")


def check_pipeline(model_dir: Path) -> None:
    """Refuse models whose sentence-transformers pipeline is not transformer + mean pooling (+ normalise)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
    except (OSError, ValueError) as error:
        raise PaperrecError(f"cannot read {model_dir / 'modules.json'}: {error}") from None
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise PaperrecError(f"the ONNX backend supports transformer + pooling (+ normalize) models, not {kinds}")
    pooling_dir = model_dir / modules[1].get("path", "1_Pooling")
    try:
        pooling = json.loads((pooling_dir / "config.json").read_text())
    except (OSError, ValueError):
        pooling = {"pooling_mode_mean_tokens": True}
    if not pooling.get("pooling_mode_mean_tokens") or any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    ):
        raise PaperrecError("the ONNX backend supports mean pooling only")


def export(model_dir: Path, out_dir: Path) -> None:
    """Export model_dir's transformer to out_dir/model.onnx and an int8 copy (atomically: all or nothing)."""
    check_pipeline(model_dir)
    for module in ("torch", "transformers", "onnx", "onnxruntime"):
        _require(module)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers.utils.logging as transformers_logging
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()

    class Encoder(torch.nn.Module):
        """The transformer alone: token ids in, last hidden state out (pooling is done in numpy)."""

        def __init__(self, transformer: torch.nn.Module):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    transformer = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0  # a padded row, so the exported graph handles masks
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir.parent))
    root_logger, level = logging.getLogger(), logging.getLogger().level
    try:
        # The exporter and the quantizer warn about tracing details and optional pre-processing: noise here.
        warnings.simplefilter("ignore")
        root_logger.setLevel(logging.ERROR)
        with torch.no_grad():
            torch.onnx.export(
                Encoder(transformer.eval()),
                (ids, mask, torch.zeros_like(ids)),
                str(work / "model.onnx"),
                dynamo=False,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
            )
        # Per-channel signed int8 weights: the most accurate of onnxruntime's dynamic schemes on AVX2.
        quantize_dynamic(
            str(work / "model.onnx"), str(work / "model_int8.onnx"), weight_type=QuantType.QInt8, per_channel=True
        )
        for name in TOKENIZER_FILES:
            if (model_dir / name).is_file():
                shutil.copy(model_dir / name, work / name)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        warnings.resetwarnings()
        root_logger.setLevel(level)


class OnnxEncoder:
    """Embeds texts with onnxruntime and tokenizers: no torch import, mean pooling and L2 norm in numpy."""

    def __init__(self, export_dir: Path, *, int8: bool, max_seq_length: int, batch_size: int = 32):
        for module in ("onnxruntime", "tokenizers"):
            _require(module)
        import onnxruntime
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        # The packaged tokenizer.json may carry its own truncation and fixed padding: set both explicitly.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        model = export_dir / ("model_int8.onnx" if int8 else "model.onnx")
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)  # (batch, tokens)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]  # (batch, tokens, dim)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)  # (batch, dim)
        return pooled

    def encode(self, texts: list[str]) -> np.ndarray:
        """An (n, dim) float32 array of mean-pooled vectors (not yet normalised)."""
        # Texts of similar length share a batch, so little time goes to padding (as sentence-transformers does).
        order = np.argsort([-len(t) for t in texts], kind="stable")
        parts = {}
        for start in range(0, len(texts), self.batch_size):
            chunk = order[start : start + self.batch_size]
            for i, vector in zip(chunk, self._batch([texts[i] for i in chunk]), strict=True):
                parts[int(i)] = vector
        return np.stack([parts[i] for i in range(len(texts))]).astype(np.float32)
