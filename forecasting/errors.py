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
        if expected is None and problem == "missing":
            expected = "this required field to be given"
        self.value, self.expected, self.problem = value, expected, problem
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = ".".join(str(p) for p in (self.entry, self.field) if p)
        loc = ": ".join(str(p) for p in (self.file, where) if p)
        msg = self.problem
        if self.expected:
            msg = f"{msg}; expected {self.expected}"
        return f"{loc}: {msg}" if loc else msg

    # True when the entry is only the API class's name ("Report"): a loader that
    # knows the real place (``reports[3]``) replaces it.
    entry_is_default = False

    def located(self, *, file=None, entry=None, default=False) -> CaseError:
        """Return a copy with the file (and entry) filled in where missing.

        ``default=True`` marks ``entry`` as a placeholder that a later call may replace.
        """
        keep = self.entry and not (self.entry_is_default and entry)
        out = CaseError(
            self.problem,
            file=self.file or file,
            entry=self.entry if keep else entry,
            field=self.field,
            value=self.value,
            expected=self.expected,
        )
        out.entry_is_default = self.entry_is_default if keep else default
        return out


def api_entry(cls):
    """Class decorator: errors raised while building ``cls`` name it as their entry.

    ``Report("2024-10-23", "HUR", "approximately", -1)`` then says
    ``Report.value: got -1.0; ...``; a file loader replaces ``Report`` with the
    file's own place, ``reports[3]``.
    """
    validate = cls.__post_init__

    def __post_init__(self):
        try:
            validate(self)
        except CaseError as e:
            raise e.located(entry=cls.__name__, default=True) from None

    __post_init__.__doc__ = validate.__doc__
    cls.__post_init__ = __post_init__
    return cls


class SamplingError(RuntimeError):
    """The sampler failed outright (not merely unconverged)."""
