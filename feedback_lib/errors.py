"""Exception and warning classes of feedback_lib.

Every error the library raises on purpose derives from :class:`FeedbackLibError`; subclasses also
inherit the matching built-in so that ``except ValueError`` keeps working for callers who do not
know this library.
"""

from __future__ import annotations


class FeedbackLibError(Exception):
    """Root of every error feedback_lib raises on purpose."""


class SchemaError(FeedbackLibError, ValueError):
    """Input that breaks the data contract.

    The message names the table (or file), the column, the rule, the offending 1-based source rows
    (header excluded) and example values. ``failures`` holds the same facts as a DataFrame with
    columns ``table, row, column, rule, value`` when they are known.
    """

    def __init__(self, message: str, failures=None) -> None:
        super().__init__(message)
        self.failures = failures


class ParameterError(FeedbackLibError, ValueError):
    """A report or function parameter that is unknown, ill-typed or out of range."""


class ReportError(FeedbackLibError, RuntimeError):
    """A scheduled report run that failed; the message names the failing step."""


class SmallSampleWarning(UserWarning):
    """A statistic computed from fewer observations than its documented minimum."""


class DataQualityWarning(UserWarning):
    """Data that is valid under the contract but suspicious (for example dates in the future)."""


class InsufficientDataError(FeedbackLibError, ValueError):
    """Too little data for a statistic or a model: no observations, no events, one cohort where
    two are needed. The message says how many there were and how many are needed."""


class NotFittedError(FeedbackLibError, RuntimeError):
    """A model method that needs ``fit`` was called before it (scikit-learn's convention)."""


class ModelFitError(FeedbackLibError, RuntimeError):
    """A model fit that failed on valid data (the optimiser did not converge); the message says
    what usually causes it and what to retry with."""


class StoreError(FeedbackLibError, RuntimeError):
    """The DuckDB store could not be read or updated; the message names the file."""
