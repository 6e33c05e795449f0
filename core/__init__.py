"""What the Rasa side (Python 3.10), the action server and the handoff service share; no framework imports."""
