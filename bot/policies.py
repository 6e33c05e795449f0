"""HandoffPolicy: while a person has the conversation, the bot relays and stays silent."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from core.vocabulary import INTERNAL_INTENTS

RELAY_ACTION = "action_relay_to_agent"
# What the customer may still do themselves while waiting for or talking to a person.
CUSTOMER_CONTROLS = {
    "request_callback": "action_switch_to_callback",
    "cancel": "action_cancel",
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    """Predicts the relay action for every customer message while `handoff_active` is set."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self._next_action(tracker)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def _next_action(tracker: DialogueStateTracker) -> Optional[Text]:
        if not tracker.get_slot("handoff_active"):
            return None
        if tracker.latest_action_name == RELAY_ACTION:
            return ACTION_LISTEN_NAME
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            return None
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if intent is None or intent in INTERNAL_INTENTS:
            return None  # the handoff service's own intents: the rules handle them as usual
        return CUSTOMER_CONTROLS.get(intent, RELAY_ACTION)
