"""Readable specifications of the library's optimised functions (docs/architecture.md, "Readable
beside fast").

Each function here computes what one fast library function computes, written the obvious way
(Python loops and plain pandas, line by line after the docstring's formula) and without the
library's private helpers, so that a bug in a helper cannot hide in both.
``tests/test_reference_implementations.py`` checks with hypothesis that the two agree. This is
test code: the package never imports it.

- :mod:`tests.reference.revenue`: ``monthly_revenue``, ``cohort_retention``
- :mod:`tests.reference.survey`: ``nps_table``
- :mod:`tests.reference.churn`: ``account_covariates``
"""
