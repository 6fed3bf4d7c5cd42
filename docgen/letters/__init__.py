"""The year's letters: rendering the .docx from templates (plain and fast), generating and
registering them, a new workspace.
"""
