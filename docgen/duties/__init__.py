"""Duties of articles 9–13: the activity ledger, the duties engine, the yearly reports and their
.docx.
"""
