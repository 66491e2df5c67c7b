"""The progress bar of pull, push and copy: one overall byte bar (tqdm.auto, so it renders in
Jupyter too), fed from the events the compiled core reports. Without tqdm, or when quiet, there
is no bar and the core is given no callback at all."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Type

Events = List[Dict[str, object]]
Callback = Callable[[Events], None]


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


class Progress:
    """`with Progress(quiet, "pull") as callback:` gives the callback to hand to `_native`, or
    None when no bar is shown; the bar is closed when the block ends, however it ends.

    The bar's total is the sum of the sizes of the blobs seen so far (it grows as the operation
    meets them); blobs the destination already had ("exists") or mounted count as done at once,
    so a second pull of the same suite fills the bar in one step.
    """

    def __init__(self, quiet: bool, desc: str) -> None:
        self._quiet = quiet
        self._desc = desc
        self._bar: Any = None
        self._sizes: Dict[str, int] = {}
        self._done: Dict[str, int] = {}
        self._broken = False

    def __enter__(self) -> Optional[Callback]:
        if self._quiet:
            return None
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            return None
        # Outside Jupyter, tqdm's own rule: no bar when stderr is not a terminal (a log file, CI).
        # In Jupyter stderr is never a terminal, and the widget is what is wanted.
        disable: Optional[bool] = False if "ipykernel" in sys.modules else None
        try:
            self._bar = tqdm(
                total=0,
                desc=self._desc,
                unit="B",
                unit_scale=True,
                unit_divisor=1000,  # decimal units, as the command line prints them
                dynamic_ncols=True,
                leave=False,
                disable=disable,
            )
        except Exception:  # a broken terminal or widget backend must not stop the transfer
            return None
        return self._on_events

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._bar is not None:
            try:
                self._bar.close()
            except Exception:
                pass
            self._bar = None

    def _on_events(self, events: Events) -> None:
        if self._broken or self._bar is None:
            return
        try:
            self._apply(events)
        except Exception:
            # A display problem never fails a download: the bar just stops.
            self._broken = True

    def _apply(self, events: Events) -> None:
        bar = self._bar
        note: Optional[str] = None
        for event in events:
            kind = event.get("event")
            digest = str(event.get("digest") or "")
            if kind == "progress" and digest:
                self._sizes[digest] = _int(event.get("size"))
                self._done[digest] = _int(event.get("bytes"))
            elif kind in ("copied", "uploaded", "exists", "mounted") and digest:
                size = _int(event.get("size"))
                self._sizes[digest] = size
                self._done[digest] = size
            elif kind == "retrying":
                note = f"retrying {event.get('path') or digest[:19]}"
            elif kind == "waiting":
                note = f"waiting for {event.get('registry')}"
            elif kind == "hashing":
                doing = "uploading while hashing" if event.get("uploading_to") else "hashing"
                note = f"{doing} {_int(event.get('bytes')) / 1e6:.1f} of {_int(event.get('total')) / 1e6:.1f} MB"
            elif kind == "hashed":
                note = ""
        total = sum(self._sizes.values())
        done = sum(self._done.values())
        if bar.total != total:
            bar.total = total
        if note is not None:
            bar.set_postfix_str(note, refresh=False)
        delta = done - bar.n
        if delta:
            bar.update(delta)  # negative after a restarted blob: tqdm counts back
        else:
            bar.refresh()
