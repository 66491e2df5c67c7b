"""Building zoo-oci errors on the Python side, shaped as the compiled core raises them."""

from __future__ import annotations

from typing import Optional, Sequence, Type, TypeVar

from . import _native

E = TypeVar("E", bound=BaseException)

# Exit codes as the command line uses them (README, "Exit codes").
_EXIT_CODES = {"failed": 1, "usage": 2, "auth": 3, "not-found": 4, "integrity": 5}


def make(
    cls: Type[E],
    message: str,
    *,
    kind: str,
    hint: Optional[str] = None,
    causes: Sequence[str] = (),
    exit_code: Optional[int] = None,
) -> E:
    """An instance of `cls` (a `ZooError` subclass) with the attributes the core's errors carry:
    `message`, `causes`, `hint`, `exit_code`, `kind`. `str(error)` is the message and its causes,
    as for the core's errors."""
    text = message + "".join(f"\n  caused by: {c}" for c in causes)
    error = cls(text)
    error.message = message  # type: ignore[attr-defined]
    error.causes = list(causes)  # type: ignore[attr-defined]
    error.hint = hint  # type: ignore[attr-defined]
    error.exit_code = _EXIT_CODES.get(kind, 1) if exit_code is None else exit_code  # type: ignore[attr-defined]
    error.kind = kind  # type: ignore[attr-defined]
    return error


def usage(message: str, hint: Optional[str] = None) -> "_native.UsageError":
    """A `UsageError` (exit code 2): bad arguments."""
    return make(_native.UsageError, message, kind="usage", hint=hint)


def not_found(message: str, hint: Optional[str] = None) -> "_native.NotFoundError":
    """A `NotFoundError` (exit code 4): a variant, framework or suite that is not there."""
    return make(_native.NotFoundError, message, kind="not-found", hint=hint)
