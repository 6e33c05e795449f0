"""FAQ knowledge base: sources, index, and search with a confidence the bot can act on."""

from .build.indexer import build_index
from .kb import KnowledgeBase, load_knowledge_base
from .settings import Settings
from .sources import load_entries
from .types import Entry, FAQError, Hit, SearchResult

__all__ = [
    "Entry",
    "FAQError",
    "Hit",
    "KnowledgeBase",
    "SearchResult",
    "Settings",
    "build_index",
    "load_entries",
    "load_knowledge_base",
]
