"""Custom NLU components: language detection and a guard that keeps questions out of small talk."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language import detect
from bot.routing import keeps_intent, promoted_intent
from core.vocabulary import INTERNAL_INTENTS

# Intents that only ever mean a short social or control move. A longer message that NLU puts
# here is almost always a real question ("Hi, my router keeps dropping the connection").
SMALL_TALK_INTENTS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "what_can_you_do"})
QUESTION_INTENT = "ask_question"
FRUSTRATION_INTENT = "frustration"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds a `language` entity (de/en) when the message clearly is German or English."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = list(message.get(ENTITIES) or [])
            if text.startswith("/") or any(e.get("entity") == "language" for e in entities):
                continue
            language, confidence = detect(text)
            if language is None:
                continue
            entities.append(
                {
                    "entity": "language",
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "confidence": confidence,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionGuard(GraphComponent, IntentClassifier):
    """Sends long messages classified as small talk, and "requests" for a person or a call that name
    neither (bot/routing.py), to the knowledge base instead; and messages that ask for a person or a call in
    so many words to request_human / request_callback, whatever the classifier said."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_small_talk_words": 6, "max_frustration_words": 12}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_words = int(config.get("max_small_talk_words", 6))
        self.max_frustration_words = int(config.get("max_frustration_words", 12))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            name = intent.get("name")
            if text.startswith("/"):
                continue
            if name in INTERNAL_INTENTS:
                # Only the handoff service triggers these, through Rasa's HTTP API (which skips NLU): text that
                # merely looks like one ("agent_message{...}") is a customer's question like any other.
                self._set(message, QUESTION_INTENT)
                continue
            promoted = promoted_intent(name or "", text)
            if promoted is not None:
                self._set(message, promoted)
                continue
            if name in SMALL_TALK_INTENTS:
                if len(text.split()) <= self.max_words:
                    continue
            elif name == FRUSTRATION_INTENT:
                # "Gefällt mir doch nicht. Kann ich das Tablet zurückschicken?" is a question first: answer it.
                if "?" not in text and len(text.split()) <= self.max_frustration_words:
                    continue
            elif keeps_intent(name or "", text):
                continue
            self._set(message, QUESTION_INTENT)
        return messages

    @staticmethod
    def _set(message: Message, name: str) -> None:
        chosen = {"name": name, "confidence": 1.0}
        message.set(INTENT, chosen, add_to_output=True)
        ranking = [chosen] + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
