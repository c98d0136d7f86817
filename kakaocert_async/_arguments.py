"""argparse types shared by the command-line modules (the CLI's and the sandbox's)."""

from __future__ import annotations

import argparse


def any_seconds(text: str) -> float:
    """A number of seconds, of either sign (a clock offset)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value != value or value in {float("inf"), float("-inf")}:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A number of seconds, 0 or more."""
    value = any_seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 or more seconds")
    return value


def sign_after(text: str) -> float | None:
    """Seconds until the sandbox's receiver signs, or ``never``."""
    return None if text.strip().lower() in {"never", "none"} else seconds(text)
