"""Privacy: the one masking rule for e-mail addresses shown in reports and exports.
"""

from __future__ import annotations

import pandas as pd


def mask_email(emails: pd.Series) -> pd.Series:
    """Keep the first character and the domain: ``"cfo@acme.example"`` -> ``"c***@acme.example"``.

    Examples
    --------
    >>> mask_email(pd.Series(["cfo@acme.example", None])).tolist()
    ['c***@acme.example', <NA>]
    """
    s = emails.astype("string")
    masked = s.str.replace(r"^(.)[^@]*@", r"\1***@", regex=True)
    # anything that is not an e-mail address is hidden completely
    return masked.where(masked.str.contains("***@", regex=False), pd.NA).where(s.notna(), pd.NA)
