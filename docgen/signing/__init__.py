"""Keys and signatures: the institution's CA and certificates, passphrases, the keyring, CAdES,
signing a year's letters.
"""
