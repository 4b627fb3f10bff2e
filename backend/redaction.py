"""Hiding database passwords in text that is about to be printed: only the password fields are touched.

A URL's password field (`scheme://user:PASSWORD@host`, or a `password=` query parameter) and the value of
`password=` in a libpq DSN (`host=db password=PASSWORD`) become `***`. Nothing else changes, so a database
named `chatx` stays `chatx` when the password is `chat`, and a one-letter password cannot garble words.
"""

from __future__ import annotations

import re

MASK = "***"

# userinfo runs to the last "@" before the host: a raw, unencoded "@" in a password is hidden whole too.
_URL_PASSWORD = re.compile(r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s]*@(?=[^\s@]*(?:\s|$))")
_QUERY_PASSWORD = re.compile(r"(?P<keep>[?&]password=)[^&\s#]*", re.IGNORECASE)
# A DSN value is a bare word or a single-quoted string with backslash escapes (libpq's rules).
_DSN_PASSWORD = re.compile(
    r"(?P<keep>(?<![\w.?&-])password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s']+)", re.IGNORECASE
)


def redact_credentials(text: str) -> str:
    """The text with every URL or DSN password field replaced by ***."""
    text = _URL_PASSWORD.sub(rf"\g<keep>{MASK}@", text)
    text = _QUERY_PASSWORD.sub(rf"\g<keep>{MASK}", text)
    return _DSN_PASSWORD.sub(rf"\g<keep>{MASK}", text)
