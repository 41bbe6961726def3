"""What customers write: the multilingual theme lexicon and tagging (``themes``), theme
trends and the weekly top problems (``trends``), statement polarity with negation
(``polarity``) and problems over weeks (``problems``), and key driver analysis (``drivers``).

May import: ``feedback_lib.revenue``, ``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.verbatims.drivers import KeyDrivers, key_drivers, shapley_r2
from feedback_lib.verbatims.polarity import split_statements, statement_polarity
from feedback_lib.verbatims.problems import persistent_problems, problem_themes
from feedback_lib.verbatims.themes import (
    Lexicon,
    discover_phrases,
    load_lexicon,
    normalize_text,
    tag_themes,
)
from feedback_lib.verbatims.trends import ThemeTrends, theme_trends, top_problems

__all__ = [
    "discover_phrases",
    "key_drivers",
    "KeyDrivers",
    "Lexicon",
    "load_lexicon",
    "normalize_text",
    "persistent_problems",
    "problem_themes",
    "shapley_r2",
    "split_statements",
    "statement_polarity",
    "tag_themes",
    "theme_trends",
    "ThemeTrends",
    "top_problems",
]
