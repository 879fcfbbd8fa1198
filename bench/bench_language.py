"""Customer-language detection: what the reply function's cold start pays, the time per message, the
installed size of the library, accuracy on the labelled short messages and shopping messages in
tests/ (and on messages in languages outside the six: named right, or wrongly named one of the six),
how Spanish shopping messages fare (named Spanish; a new conversation kept in Spanish; an
English one switched to Spanish), and the share of generated "Brand Model" first messages that
would pin a language other than the default.

Cold figures are medians over fresh interpreters: `import_s` is importing mostrador's language module
(it must not load the library), `first_detect_s` the first detection (py3langid import + model load)
with numpy already imported, as in the reply function (pgvector imports it when the database connects).
Ends with one line of JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests/unit/conversations"
RUNS = 5

_COLD = """
import time
import numpy
t = time.perf_counter()
from mostrador.conversations import language
imported = time.perf_counter() - t
assert not language.model_loaded()
t = time.perf_counter()
language.detect_language("bonjour, vous avez des frigos ?")
print(imported, time.perf_counter() - t)
"""


def _cold() -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)])}
    imports, loads = [], []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, check=True, env=env)
        imported, loaded = map(float, out.stdout.split())
        imports.append(imported)
        loads.append(loaded)
    return statistics.median(imports), statistics.median(loads)


def _rows(name: str) -> list[tuple[str, str]]:
    lines = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    return [(line.split("\t", 1)[0], line.split("\t", 1)[1]) for line in lines if line and not line.startswith("#")]


def _installed_mb(distribution: str) -> float:
    files = metadata.distribution(distribution).files or []
    return sum(f.locate().stat().st_size for f in files if Path(f.locate()).is_file()) / 1e6


def main() -> None:
    sys.path[:0] = [str(ROOT / "layers/shared/python"), str(ROOT)]
    from mostrador.conversations.language import DEFAULT_LANGUAGE, SUPPORTED, conversation_language, detect_language
    from tests.unit.conversations.brand_openers import brand_model_openers

    import_s, first_detect_s = _cold()
    tuning, holdout = _rows("language_samples.tsv"), _rows("language_holdout.tsv")
    shopping, shopping_holdout = _rows("language_shopping.tsv"), _rows("language_shopping_holdout.tsv")
    other, other_holdout = _rows("language_other.tsv"), _rows("language_other_holdout.tsv")
    spanish = [text for label, text in shopping + shopping_holdout if label == "es"]
    detect_language("warm up")
    timings = []
    for _ in range(20):
        for _, text in tuning:
            started = time.perf_counter()
            detect_language(text)
            timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()

    def accuracy(rows: list[tuple[str, str]]) -> float:
        return round(sum((detect_language(text) or "und") == label for label, text in rows) / len(rows), 3)

    openers = brand_model_openers()
    pinned_elsewhere = sum(conversation_language(text, None, pinned=False) != DEFAULT_LANGUAGE for text in openers)

    def wrong(rows: list[tuple[str, str]]) -> int:
        return sum(1 for label, text in rows if detect_language(text) not in (None, label))

    def share(texts: list[str], keeps: Callable[[str], bool]) -> float:
        return round(sum(map(keeps, texts)) / len(texts), 3)

    print(
        json.dumps(
            {
                "bench": "language",
                "library": f"py3langid {metadata.version('py3langid')}",
                "import_ms": round(import_s * 1000, 1),
                "first_detect_ms": round(first_detect_s * 1000, 1),
                "detect_p50_us": round(timings[len(timings) // 2], 1),
                "detect_p95_us": round(timings[int(len(timings) * 0.95)], 1),
                "installed_mb": round(_installed_mb("py3langid"), 1),
                "accuracy_tuning": accuracy(tuning),
                "accuracy_holdout": accuracy(holdout),
                "accuracy_shopping": accuracy(shopping),
                "accuracy_shopping_holdout": accuracy(shopping_holdout),
                "accuracy_other": accuracy(other),
                "accuracy_other_holdout": accuracy(other_holdout),
                "other_named_one_of_six": sum(detect_language(text) in SUPPORTED for _, text in other + other_holdout),
                "spanish_shopping": len(spanish),
                "spanish_shopping_named_es": share(spanish, lambda text: detect_language(text) == "es"),
                "spanish_shopping_first_message_es": share(
                    spanish, lambda text: conversation_language(text, None, pinned=False) == "es"
                ),
                "spanish_shopping_switches_english": share(
                    spanish, lambda text: conversation_language(text, "en") == "es"
                ),
                "wrong_language_named": sum(map(wrong, (tuning, holdout, shopping, shopping_holdout))),
                "messages": len(tuning) + len(holdout) + len(shopping) + len(shopping_holdout),
                "brand_openers": len(openers),
                "brand_openers_pinned_elsewhere": round(pinned_elsewhere / len(openers), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
