"""Who is who and who signs with whom: the roster (YAML, spreadsheet import), the example
institution, the pairings of the hierarchy.
"""
