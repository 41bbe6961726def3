"""The installed package's version, read once from its metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _package_version() -> str:
    try:
        return version("feedback_lib")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


PACKAGE_VERSION = _package_version()
