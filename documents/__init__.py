"""Document machinery: PDF rendering, key management, PAdES signing and verification.

Pure functions with no Flask or database dependency; acceptance records and conventions
build on them. Modules: ``pdf`` (HTML to PDF), ``pki`` (certificate authority, keys,
PKCS#12 import), ``signing`` (PAdES signatures), ``verify`` (verification reports).
"""
