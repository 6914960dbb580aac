"""The vocabulary every stage shares: error codes and records, SQL text, digests,
Markdown tables, and the layout of a release directory on disk.

May import: nothing of azkz outside `azkz.core` (the standard library, and no engine).
"""
