"""The one exception type that reaches the user as a single line, never as a traceback."""

import difflib


class UserError(Exception):
    """Bad input: the CLI prints the message on one line and exits with status 2."""


def unknown_name(kind: str, name: str, known) -> UserError:
    """An error for an unknown catalogue name that suggests the closest valid names."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"valid names: {', '.join(known)}"
    return UserError(f"unknown {kind} {name!r}; {hint}")
