"""The deterministic synthetic company: ``generate_demo`` (``company``), the monthly
simulation behind it (``engine``) and its vocabulary of names, comments and conversations.

May import: ``feedback_lib.io``, ``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.demo.company import generate_demo

__all__ = ["generate_demo"]
