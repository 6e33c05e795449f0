"""Rasa glue: custom NLU components, the handoff policy and channel connectors (runs inside Rasa)."""
