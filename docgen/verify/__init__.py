"""Checking letters offline and archiving a year: the per-letter checklist, folders, archives and
their volumes, the report.
"""
