"""Custom actions for the Rasa bot (rasa_sdk action server): knowledge base, handoff, callback."""
