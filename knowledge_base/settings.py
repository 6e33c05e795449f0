"""Knowledge-base settings, read once from the environment."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from core.env import Env

from .types import FAQError

# Confidence thresholds for the bands; chosen on held-out development data (see bench/) so that a
# new FAQ gets sensible behaviour before anyone runs `calibrate`: customers' own words
# (bench/customer_sets/dev*.csv, bench/README.md) with the default encoder. `clarify` compares the
# three best confidences together, `answer` the best alone. Clarify 0.40 (was 0.45) on all customer sets looked
# at by 2026-12-01 (1,150 FAQ questions, 240 out of scope, with the off-topic check of actions/requests.py): ten
# more questions get a list with the right entry, one more out-of-scope question a list; CLINC150 in scope
# 95.37 -> 95.43 %, out-of-scope recall 79 -> 78 % (bench/kb_clinc150.py --only default).
DEFAULT_ANSWER_THRESHOLD = 0.45
DEFAULT_CLARIFY_THRESHOLD = 0.40
# English confidences run higher for the same right share than German ones (other encoders: MiniLM alone for
# English, with multilingual-e5 for German), so English answers from 0.40. On all customer sets looked at by
# 2026-12-01 (700 English FAQ questions, 180 out-of-scope): 13 more English questions answered directly, the
# right entry each time, no out-of-scope question answered that the action server's checks do not decline;
# German at 0.40 would gain 12 right answers for 3 wrong ones, so German keeps 0.45. Applies while
# KB_ANSWER_THRESHOLD is not set (a calibrated threshold is one for all languages); KB_ANSWER_THRESHOLD_DE /
# KB_ANSWER_THRESHOLD_EN set one language's.
DEFAULT_LANGUAGE_ANSWER_THRESHOLDS = (("en", 0.40),)
ENCODERS = ("auto", "onnx", "onnx-int8", "torch")
FINE_TUNE_CHOICES = ("auto", "on", "off")


@dataclass(frozen=True)
class Settings:
    """Where the FAQ and the index live, which model encodes, and the band thresholds."""

    faq_path: Path = Path("data/faq")
    index_dir: Path = Path("var/kb_index")
    model: str | None = None  # a sentence-transformers model directory; None = the packaged MiniLM
    answer_threshold: float = DEFAULT_ANSWER_THRESHOLD
    clarify_threshold: float = DEFAULT_CLARIFY_THRESHOLD
    # (language, threshold) pairs that replace answer_threshold for a query in that language
    language_answer_thresholds: tuple[tuple[str, float], ...] = DEFAULT_LANGUAGE_ANSWER_THRESHOLDS
    check_sources: bool = True  # refuse an index built from other FAQ sources than faq_path holds
    encoder: str = "auto"  # auto (= onnx-int8 if onnxruntime is there) | onnx | onnx-int8 | torch: how build
    # encodes; the index keeps the encoder for its queries
    fine_tune: str = "auto"  # auto (the packaged encoder on a large FAQ, build/finetune.py) | on | off: KB_FINE_TUNE

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        env = Env(environ)
        problems = env.problems
        by_language = dict(() if env.is_set("KB_ANSWER_THRESHOLD") else DEFAULT_LANGUAGE_ANSWER_THRESHOLDS)
        for language, name in (("de", "KB_ANSWER_THRESHOLD_DE"), ("en", "KB_ANSWER_THRESHOLD_EN")):
            if env.is_set(name):
                by_language[language] = env.number(name, DEFAULT_ANSWER_THRESHOLD, 0.0, 1.0)
        settings = cls(
            language_answer_thresholds=tuple(sorted(by_language.items())),
            faq_path=Path(env.text("FAQ_PATH", "data/faq")),
            index_dir=Path(env.text("KB_INDEX_DIR", "var/kb_index")),
            model=env.text("KB_MODEL"),
            answer_threshold=env.number("KB_ANSWER_THRESHOLD", DEFAULT_ANSWER_THRESHOLD, 0.0, 1.0),
            clarify_threshold=env.number("KB_CLARIFY_THRESHOLD", DEFAULT_CLARIFY_THRESHOLD, 0.0, 1.0),
            check_sources=env.raw("KB_CHECK_SOURCES") not in ("0", "false", "no"),
            encoder=env.text("KB_ENCODER", "auto"),
            fine_tune=env.text("KB_FINE_TUNE", "auto").lower(),
        )
        if settings.fine_tune not in FINE_TUNE_CHOICES:
            problems.append(f"KB_FINE_TUNE={settings.fine_tune!r} must be one of {', '.join(FINE_TUNE_CHOICES)}")
        if settings.encoder not in ENCODERS:
            problems.append(f"KB_ENCODER={settings.encoder!r} must be one of {', '.join(ENCODERS)}")
        if settings.clarify_threshold > settings.answer_threshold:
            problems.append("KB_CLARIFY_THRESHOLD must not exceed KB_ANSWER_THRESHOLD")
        for language, threshold in settings.language_answer_thresholds:
            if settings.clarify_threshold > threshold:
                problems.append(
                    f"KB_CLARIFY_THRESHOLD must not exceed the {language} answer threshold {threshold:g} "
                    f"(KB_ANSWER_THRESHOLD_{language.upper()}, or KB_ANSWER_THRESHOLD for every language)"
                )
        if problems:
            raise FAQError(problems)
        return settings

    def with_(self, **changes) -> "Settings":
        """A copy with ``changes``; a new answer_threshold is one for all languages unless they are given too."""
        if "answer_threshold" in changes:
            changes.setdefault("language_answer_thresholds", ())
        return replace(self, **changes)

    def build_options(self) -> dict:
        """The index build's options these settings ask for (build/indexer.py)."""
        return {"fine_tune": {"auto": "auto", "on": True, "off": False}[self.fine_tune]}

    def answer_threshold_for(self, language: str | None) -> float:
        return dict(self.language_answer_thresholds).get(language, self.answer_threshold)
