"""What several language-model results share: a token as a table shows it."""

from __future__ import annotations


def token_label(token: str) -> str:
    """A token as shown in tables: quoted with escapes when it has spaces at its ends or is empty."""
    return repr(token) if token.strip() != token or not token else token
