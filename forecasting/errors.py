"""The one exception type users see for bad input."""

from __future__ import annotations


class CaseError(ValueError):
    """Bad input in a case file, a reports CSV or an API call.

    The message names where the problem is (file, entry, field), the offending
    value and what was expected, e.g.
    ``case.toml: reports[3].value: got -5; expected a positive number``.

    Attributes
    ----------
    file, entry, field : str or None
        Where the problem is; ``None`` when not applicable.
    value : object
        The offending value, if any.
    expected : str
        What would have been valid.
    """

    def __init__(self, problem, *, file=None, entry=None, field=None, value=None, expected=None):
        self.file, self.entry, self.field = file, entry, field
        self.value, self.expected, self.problem = value, expected, problem
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = ".".join(str(p) for p in (self.entry, self.field) if p)
        loc = ": ".join(str(p) for p in (self.file, where) if p)
        msg = self.problem
        if self.expected:
            msg = f"{msg}; expected {self.expected}"
        return f"{loc}: {msg}" if loc else msg

    def located(self, *, file=None, entry=None) -> CaseError:
        """Return a copy with the file (and entry) filled in where missing."""
        return CaseError(
            self.problem,
            file=self.file or file,
            entry=self.entry or entry,
            field=self.field,
            value=self.value,
            expected=self.expected,
        )


class SamplingError(RuntimeError):
    """The sampler failed outright (not merely unconverged)."""
