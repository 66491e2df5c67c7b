"""The exceptions of zoo-oci, defined once, here, and raised by the compiled core as well
(`python/src/lib.rs` imports this module), so that every one of them pickles.

Pickling is how `multiprocessing`, `concurrent.futures.ProcessPoolExecutor` and a PyTorch
DataLoader's workers hand an exception to the parent: the class travels by module and name
(`zoo_oci.NotFoundError`), the attributes by value. Classes made inside the compiled module were
named `zoo_oci._native.NotFoundError`, which pickle could not find again, so a worker's failure
reached the parent as a pickling error instead of the failure.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, TypeVar

E = TypeVar("E", bound="ZooError")

# Exit codes as the command line uses them (README, "Exit codes").
_EXIT_CODES = {"failed": 1, "usage": 2, "auth": 3, "not-found": 4, "integrity": 5, "transport": 1}


def _restore(cls: Type[BaseException], args: Tuple[Any, ...], state: Dict[str, Any]) -> BaseException:
    """An exception of `cls` with these `args` and attributes, made without calling its
    `__init__` (whose parameters a subclass may change): what `ZooError.__reduce__` names."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ZooError(Exception):
    """Any zoo-oci failure. `str(error)` is the message, its causes and the hint, as the command
    line prints them.

    Attributes:
        message: What failed, one line.
        causes: Why, outermost first (the errors underneath, as `caused by:` lines).
        hint: What to do next, or None.
        exit_code: The command line's exit code for it (README, "Exit codes").
        kind: What kind of failure: `usage`, `auth`, `not-found`, `integrity:REASON`,
            `transport:REASON` (`refused`, `timeout`, `untrusted-certificate`, …) or `failed`.

    Every zoo-oci exception pickles with its class and attributes, so one raised in a
    `multiprocessing` or DataLoader worker reaches the parent as itself.
    """

    message: str
    causes: List[str]
    hint: Optional[str]
    exit_code: int
    kind: str

    def __init__(
        self,
        message: str,
        *,
        causes: Sequence[str] = (),
        hint: Optional[str] = None,
        exit_code: Optional[int] = None,
        kind: str = "failed",
    ) -> None:
        causes = [str(c) for c in causes]
        text = message + "".join(f"\n  caused by: {c}" for c in causes) + (f"\n  hint: {hint}" if hint else "")
        super().__init__(text)
        self.message = message
        self.causes = causes
        self.hint = hint
        self.kind = kind
        self.exit_code = _EXIT_CODES.get(kind.split(":", 1)[0], 1) if exit_code is None else int(exit_code)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class UsageError(ZooError):
    """A wrong argument or reference (the command line's exit code 2)."""


class AuthError(ZooError):
    """Credentials missing or refused (exit code 3)."""


class NotFoundError(ZooError):
    """A location, tag, variant or file that does not exist (exit code 4)."""


class IntegrityError(ZooError):
    """Content that does not match its digest, or a hostile archive (exit code 5)."""


class TransportError(ZooError):
    """A registry that could not be talked to (exit code 1)."""


# The public name is the package's: `zoo_oci.NotFoundError`, as pickle and tracebacks show it.
for _class in (ZooError, UsageError, AuthError, NotFoundError, IntegrityError, TransportError):
    _class.__module__ = "zoo_oci"
del _class


def make(
    cls: Type[E],
    message: str,
    *,
    kind: str,
    hint: Optional[str] = None,
    causes: Sequence[str] = (),
    exit_code: Optional[int] = None,
) -> E:
    """An instance of `cls` (a `ZooError` subclass) with these parts."""
    return cls(message, causes=causes, hint=hint, exit_code=exit_code, kind=kind)


def usage(message: str, hint: Optional[str] = None) -> UsageError:
    """A `UsageError` (exit code 2): bad arguments."""
    return UsageError(message, hint=hint, kind="usage")


def not_found(message: str, hint: Optional[str] = None) -> NotFoundError:
    """A `NotFoundError` (exit code 4): a variant, framework or suite that is not there."""
    return NotFoundError(message, hint=hint, kind="not-found")
