"""The end-to-end demonstration with a fictional institution."""
