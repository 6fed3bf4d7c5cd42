"""Shared basics every layer may use: errors, the domain model and glossary, articles, the
workspace, durable writes, locks, workers, progress.
"""
