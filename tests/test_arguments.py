"""The argparse types the command lines share."""

from __future__ import annotations

import argparse

import pytest

from kakaocert_async import _arguments


@pytest.mark.parametrize(("text", "value"), [("0", 0.0), ("2.5", 2.5), ("10", 10.0)])
def test_seconds(text: str, value: float) -> None:
    assert _arguments.seconds(text) == value


@pytest.mark.parametrize("text", ["-1", "soon", "nan", "inf", ""])
def test_bad_seconds_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="seconds"):
        _arguments.seconds(text)


def test_an_offset_may_be_negative() -> None:
    assert _arguments.any_seconds("-300") == -300.0


@pytest.mark.parametrize("text", ["never", "None", " NEVER "])
def test_sign_after_never(text: str) -> None:
    assert _arguments.sign_after(text) is None
    assert _arguments.sign_after("3") == 3.0
