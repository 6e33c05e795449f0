"""Use cases of the handoff service; each owns its transaction and enforces its preconditions."""
