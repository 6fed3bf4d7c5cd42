"""What the registry says about a year: letter ids and paths, each letter's state, manifest, proof
bundles, status and void.
"""
