"""Property tests that reach their assertion: inputs made by mutating valid ones (most stay
valid, the rest sit next to the boundary), and a tally that fails the test when too few of the
examples hypothesis ran were accepted (a property over nothing would pass for any code)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[str], fragments: st.SearchStrategy[str]) -> str:
    """A valid string with 0-3 edits (insert, delete, replace with one of ``fragments``); half of
    them unedited, so the property is checked on valid inputs as often as on near-misses."""
    text = draw(valid)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 4)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = "" if edit == "delete" else draw(fragments)
        text = text[:at] + piece + (text[at:] if edit == "insert" else text[end:])
    return text


@dataclass
class Tally:
    """How many examples ran and how many the code under test accepted."""

    tried: int = 0
    accepted: int = 0

    def saw(self, accepted: bool) -> None:
        self.tried += 1
        self.accepted += accepted

    def assert_share(self, minimum: float, *, at_least: int) -> None:
        assert self.tried >= at_least, f"only {self.tried} examples ran"
        share = self.accepted / self.tried
        assert share >= minimum, f"{self.accepted} of {self.tried} examples accepted ({share:.0%} < {minimum:.0%})"
