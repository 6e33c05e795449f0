"""FAQ sources: reading them into validated entries (:mod:`.reader`) and changing one entry in them (:mod:`.writer`)."""

from .reader import (
    CSV_DEFAULT_LANGUAGE,
    CSV_OPTIONAL,
    CSV_REQUIRED,
    ENTRY_FIELDS,
    SOURCE_SUFFIXES,
    load_entries,
    relative_checksums,
    source_checksums,
    source_files,
    validate_entry,
)

__all__ = [
    "CSV_DEFAULT_LANGUAGE",
    "CSV_OPTIONAL",
    "CSV_REQUIRED",
    "ENTRY_FIELDS",
    "SOURCE_SUFFIXES",
    "load_entries",
    "relative_checksums",
    "source_checksums",
    "source_files",
    "validate_entry",
]
