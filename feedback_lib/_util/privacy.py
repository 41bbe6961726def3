"""Privacy: the one rule for e-mail addresses in anything a report shows or exports.

An address as people write it (local part, ``@``, a dotted domain with an alphabetic top-level
label) is masked to its first character and its domain: ``maria.virtanen@example.com`` becomes
``m***@example.com``. :func:`mask_email` applies the rule inside any text, :func:`mask_emails` to
every text cell of a frame, and :func:`mask_contacts` to a column that should hold one address per
cell (anything else there is hidden completely). The report runner's final scan
(``feedback_lib.reporting.find_unmasked_emails``) uses the same pattern.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

# An address as people write it: local part, @, dotted domain with an alphabetic top-level label.
# A masked address ("m***@example.com") does not match: '*' cannot precede the '@'.
EMAIL_RE = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}", re.UNICODE)


def mask_email(address: Any) -> Any:
    """Mask an e-mail address to its first character and domain.

    Parameters
    ----------
    address
        An e-mail address; anything else (empty text, ``None``, NaN) is returned unchanged.

    Examples
    --------
    >>> mask_email("maria.virtanen@example.com")
    'm***@example.com'
    >>> mask_email("") == "" and mask_email(None) is None
    True
    """
    if not isinstance(address, str) or "@" not in address:
        return address
    return EMAIL_RE.sub(_mask_match, address)


def _mask_match(match: re.Match) -> str:
    local, _, domain = match.group(0).rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_emails(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Copy of ``frame`` with every e-mail address in its text cells masked.

    Parameters
    ----------
    frame
        Any DataFrame.
    columns
        Columns to mask; default every text (object or string) column, because verbatims and
        notes contain addresses too.

    Examples
    --------
    >>> df = pd.DataFrame({"contact": ["ab@x.com", None], "n": [1, 2]})
    >>> mask_emails(df)["contact"].tolist()
    ['a***@x.com', None]
    """
    out = frame.copy()
    targets = columns if columns is not None else text_columns(out)
    for col in targets:
        # only cells with an '@' can hold an address (a vectorised test, then the regex on those)
        has_at = cells(out[col], lambda text: text.str.contains("@", regex=False), lambda v: "@" in v)
        if has_at.any():
            values = out[col].astype(object)
            values[has_at] = values[has_at].map(mask_email)
            out[col] = values.astype(out[col].dtype) if isinstance(out[col].dtype, pd.StringDtype) else values
    return out


def cells(column: pd.Series, vectorised, one) -> np.ndarray:
    """Boolean mask of the text cells of ``column`` for which a test holds (False elsewhere).

    ``vectorised`` runs on the ``.str`` accessor; a column the accessor refuses (lists, say)
    gets ``one`` cell by cell on its string values.
    """
    try:
        return vectorised(column).to_numpy(dtype=bool, na_value=False)
    except (AttributeError, TypeError):
        return np.fromiter((isinstance(v, str) and one(v) for v in column), dtype=bool, count=len(column))


def text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


def mask_contacts(emails: pd.Series) -> pd.Series:
    """A column of contact addresses with each one masked, and anything that is not an address
    hidden completely (``<NA>``), so that a malformed export cannot leak a name or a phone number.

    Examples
    --------
    >>> mask_contacts(pd.Series(["cfo@acme.example", "call Jo on 040 123", None])).tolist()
    ['c***@acme.example', <NA>, <NA>]
    """
    values = emails.astype("string").to_numpy(dtype=object, na_value=None)
    masked = [mask_email(v) if v is not None and EMAIL_RE.fullmatch(v) else None for v in values]
    return pd.Series(masked, index=emails.index, dtype="string")
