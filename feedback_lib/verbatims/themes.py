"""Verbatim themes: a configurable multilingual keyword lexicon, theme tagging and discovery of
frequent phrases the lexicon misses.

Matching is plain Python and pandas: comments and keywords are Unicode NFKC-normalised and
case-folded; each language's keywords match either at the start of a word (English) or anywhere
inside a word (Finnish compounds, Chinese, which has no spaces). The default lexicon is
``feedback_lib/data/themes.yaml``; docs/program.md lists its known false positives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from feedback_lib._util.checks import require_columns
from feedback_lib.errors import ParameterError

__all__ = ["discover_phrases", "Lexicon", "load_lexicon", "normalize_text", "tag_themes"]

MATCH_MODES = ("prefix", "substring")
# CJK ideographs, kana and hangul: written without spaces, so phrases are character n-grams
CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_STOPWORDS = frozenset(
    # English
    "a an and are as at be but by for from had has have i in is it its not of on or our so that the "
    "their them there they this to too very was we were what when which with you your us my me it's "
    "been can could would should will just more much also than then all any some no do does did "
    # Finnish
    "ja on ei se ne me he te että kun jos mutta tai niin kuin myös vain nyt oli olla ovat olemme "
    "meidän meillä teidän sen sitä tämä tässä siitä hyvin liian aivan vielä kanssa ilman".split()
)


def normalize_text(text: pd.Series) -> pd.Series:
    """NFKC-normalise, case-fold and collapse white space (missing -> empty string).

    Examples
    --------
    >>> normalize_text(pd.Series(["  Raportointi\\u00adTYÖKALU  on   hidas", None, "ＡＰＩ"])).tolist()
    ['raportointi\\xadtyökalu on hidas', '', 'api']
    """
    s = text.astype("string").fillna("")
    s = s.str.normalize("NFKC").str.casefold()
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def _norm(word: str) -> str:
    return normalize_text(pd.Series([word])).iloc[0]


@dataclass(frozen=True)
class Lexicon:
    """Theme keywords by language, how each language matches, and excluded phrases.

    Attributes
    ----------
    themes
        theme -> language -> keywords (normalised).
    match
        language -> ``"prefix"`` (at the start of a word; three characters or fewer: whole word)
        or ``"substring"`` (anywhere, also inside compounds). Unlisted languages: ``"prefix"``.
        Keywords written in Chinese, Japanese or Korean characters always match as substrings.
    exclude
        theme -> phrases blanked out before that theme is matched (known false positives).
    """

    themes: dict[str, dict[str, tuple[str, ...]]]
    match: dict[str, str] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def pattern(self, theme: str) -> str:
        """The regular expression of one theme (non-capturing; longest keywords first, so that
        the reported keyword is the most specific one)."""
        prefix, whole, substring = [], [], []
        for language, words in self.themes[theme].items():
            mode = self.match.get(language, "prefix")
            for word in words:
                if mode == "substring" or re.search(f"[{CJK}]", word):  # CJK has no word boundaries
                    substring.append(word)
                elif len(word) <= 3:
                    whole.append(word)
                else:
                    prefix.append(word)

        def alternatives(words: list[str]) -> str:
            return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))

        parts = []
        if prefix:
            parts.append(rf"(?<!\w)(?:{alternatives(prefix)})")
        if whole:
            parts.append(rf"(?<!\w)(?:{alternatives(whole)})(?!\w)")
        if substring:
            parts.append(f"(?:{alternatives(substring)})")
        return "|".join(parts)

    def to_frame(self) -> pd.DataFrame:
        """Long table ``theme, language, keyword, match``."""
        rows = [
            (theme, language, word, self.match.get(language, "prefix"))
            for theme, by_language in self.themes.items()
            for language, words in by_language.items()
            for word in words
        ]
        return pd.DataFrame(rows, columns=["theme", "language", "keyword", "match"])


def load_lexicon(source: str | Path | dict | Lexicon | None = None) -> Lexicon:
    """Read a theme lexicon.

    Parameters
    ----------
    source
        ``None`` for the shipped default (``feedback_lib/data/themes.yaml``); a path to a YAML
        file; a dict with ``themes`` (and optional ``match``, ``exclude``) as in that file; or a
        plain dict ``{theme: {language: [keywords]}}``.

    Returns
    -------
    Lexicon

    Examples
    --------
    >>> lex = load_lexicon({"support": {"en": ["Support"], "zh": ["客服"]}})
    >>> lex.themes["support"]["en"], lex.match.get("en", "prefix")
    (('support',), 'prefix')
    >>> sorted(load_lexicon().themes)[:3]
    ['ease_of_use', 'integrations', 'onboarding']
    """
    if isinstance(source, Lexicon):
        return source
    where = "lexicon"
    if source is None:
        where = "feedback_lib/data/themes.yaml"
        raw = yaml.safe_load(resources.files("feedback_lib").joinpath("data/themes.yaml").read_text("utf-8"))
    elif isinstance(source, (str, Path)):
        where = str(source)
        try:
            raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ParameterError(f"load_lexicon: cannot read {source}: {exc}") from exc
    elif isinstance(source, dict):
        raw = source
    else:
        raise ParameterError(f"load_lexicon: expected None, a path, a dict or a Lexicon, got {type(source).__name__}")
    if not isinstance(raw, dict) or not raw:
        raise ParameterError(f"load_lexicon: {where} is empty or not a mapping of themes")
    if "themes" not in raw:
        raw = {"themes": raw}
    match = {str(k): str(v) for k, v in (raw.get("match") or {}).items()}
    bad = {k: v for k, v in match.items() if v not in MATCH_MODES}
    if bad:
        raise ParameterError(f"load_lexicon: {where}: unknown match mode(s) {bad}; use one of {MATCH_MODES}")
    themes: dict[str, dict[str, tuple[str, ...]]] = {}
    for theme, by_language in raw["themes"].items():
        if not isinstance(by_language, dict):
            raise ParameterError(
                f"load_lexicon: {where}: theme {theme!r} must map languages to keyword lists, "
                f"e.g. {{'en': ['price'], 'fi': ['hinta']}}; got {by_language!r}"
            )
        themes[str(theme)] = {
            str(lang): tuple(_norm(str(w)) for w in (words or []) if str(w).strip())
            for lang, words in by_language.items()
        }
    exclude = {
        str(theme): tuple(_norm(str(w)) for words in (by_language or {}).values() for w in (words or []))
        for theme, by_language in (raw.get("exclude") or {}).items()
    }
    unknown = sorted(set(exclude) - set(themes))
    if unknown:
        raise ParameterError(f"load_lexicon: {where}: exclude names unknown theme(s) {unknown}")
    return Lexicon(themes=themes, match=match, exclude=exclude)


def tag_themes(responses: pd.DataFrame, *, lexicon: str | Path | dict | Lexicon | None = None) -> pd.DataFrame:
    """Tag each comment with every theme whose keywords it contains.

    Parameters
    ----------
    responses
        ``response_id, comment`` (any language; empty comments get no theme).
    lexicon
        Anything :func:`load_lexicon` reads; default the shipped lexicon (en, fi, zh).

    Returns
    -------
    DataFrame
        Long format, one row per (response, theme): ``response_id, theme, keyword`` (the
        normalised keyword that matched, for auditing false positives); in response order.

    Notes
    -----
    Every language's keywords are tried on every comment. Themes are topics, not sentiment: "not
    easy to use" and "easy to use" both tag ``ease_of_use``; the score carries the sentiment.

    Examples
    --------
    >>> resp = pd.DataFrame({"response_id": ["r1", "r2", "r3", "r4"], "comment": [
    ...     "Raportointityökalu on hidas", "客服响应太慢", "Great REPORTS, fair price", None]})
    >>> tag_themes(resp)
      response_id      theme             keyword
    0          r1  reporting              raport
    1          r2    support                  客服
    2          r3    pricing               price
    3          r3  reporting              report
    """
    require_columns(responses, ["response_id", "comment"], table="responses", where="tag_themes")
    lex = load_lexicon(lexicon)
    text = normalize_text(responses["comment"]).reset_index(drop=True)
    ids = responses["response_id"].astype("string").reset_index(drop=True)
    text = text[text != ""]
    parts = []
    for order, theme in enumerate(lex.themes):  # a few themes; each match is vectorised
        pattern = lex.pattern(theme)
        if not pattern:
            continue
        subject = text
        if lex.exclude.get(theme):
            blocked = "|".join(sorted(map(re.escape, lex.exclude[theme]), key=len, reverse=True))
            subject = text.str.replace(blocked, " ", regex=True)
        subject = subject[subject.str.contains(pattern, regex=True)]
        found = subject.str.extract(f"({pattern})", expand=False).dropna()
        parts.append(pd.DataFrame({"row": found.index, "order": order, "theme": theme, "keyword": found.to_numpy()}))
    if not parts:
        return pd.DataFrame({"response_id": pd.Series(dtype="string"), "theme": pd.Series(dtype=object),
                             "keyword": pd.Series(dtype=object)})
    tagged = pd.concat(parts, ignore_index=True).sort_values(["row", "order"], ignore_index=True)
    tagged.insert(0, "response_id", ids.to_numpy()[tagged["row"].to_numpy()])
    tagged["response_id"] = tagged["response_id"].astype("string")
    return tagged[["response_id", "theme", "keyword"]]


def _ngrams(tokens: pd.Series, sizes: tuple[int, ...], joiner: str) -> pd.DataFrame:
    """Vectorised n-grams of exploded ``tokens`` (index = comment row): ``row, phrase, n``."""
    tok = tokens.to_numpy(dtype=object)
    row = tokens.index.to_numpy()
    out = []
    for n in sizes:  # a few sizes
        if len(tok) < n:
            continue
        m = len(tok) - n + 1
        same = row[:m] == row[n - 1:]
        phrase = tok[:m].copy()
        for k in range(1, n):
            phrase = phrase + joiner + tok[k:m + k]
        out.append(pd.DataFrame({"row": row[:m][same], "phrase": phrase[same], "n": n,
                                 "first": tok[:m][same], "last": tok[n - 1:][same]}))
    if not out:
        return pd.DataFrame(columns=["row", "phrase", "n", "first", "last"])
    return pd.concat(out, ignore_index=True)


def discover_phrases(
    responses: pd.DataFrame,
    *,
    tagged: pd.DataFrame,
    min_count: int = 5,
    word_ngrams: tuple[int, ...] = (1, 2, 3),
    char_ngrams: tuple[int, ...] = (2, 3),
    stopwords: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Frequent phrases among comments that matched no theme: candidates for the lexicon.

    Parameters
    ----------
    responses
        ``response_id, comment``.
    tagged
        Output of :func:`tag_themes` (``response_id`` used).
    min_count
        Keep phrases found in at least this many untagged comments.
    word_ngrams
        Word n-gram sizes for languages written with spaces (words = runs of letters).
    char_ngrams
        Character n-gram sizes for Chinese, Japanese and Korean runs (no spaces to split on).
    stopwords
        Words an n-gram may not start or end with (default: a short English and Finnish list).

    Returns
    -------
    DataFrame
        ``phrase, script`` (``"word"`` or ``"cjk"``), ``n, comments`` (untagged comments containing
        it), ``share`` (of untagged comments), ``example`` (a response_id); most frequent first.

    Examples
    --------
    >>> resp = pd.DataFrame({"response_id": list("abcde"), "comment": ["Mobile app freezes",
    ...     "the mobile app is great", "移动端闪退", "移动端太慢", "Great price"]})
    >>> tagged = tag_themes(resp)
    >>> discover_phrases(resp, tagged=tagged, min_count=2)[["phrase", "script", "n", "comments"]]
           phrase script  n  comments
    0         移动端    cjk  3         2
    1  mobile app   word  2         2
    2          动端    cjk  2         2
    3          移动    cjk  2         2
    4         app   word  1         2
    5      mobile   word  1         2
    """
    require_columns(responses, ["response_id", "comment"], table="responses", where="discover_phrases")
    require_columns(tagged, ["response_id"], table="tagged", where="discover_phrases")
    stop = _STOPWORDS if stopwords is None else frozenset(stopwords)
    text = normalize_text(responses["comment"]).reset_index(drop=True)
    ids = responses["response_id"].astype("string").reset_index(drop=True)
    untagged = (text != "") & ~ids.isin(tagged["response_id"].astype("string"))
    text = text[untagged]
    total = int(untagged.sum())
    columns = ["phrase", "script", "n", "comments", "share", "example"]
    if total == 0:
        return pd.DataFrame(columns=columns)
    words = text.str.replace(f"[{CJK}]+", " ", regex=True).str.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*").explode()
    words = words.dropna()
    grams = _ngrams(words, word_ngrams, " ").assign(script="word")
    grams = grams.loc[~grams["first"].isin(stop) & ~grams["last"].isin(stop) & (grams["phrase"].str.len() > 1)]
    chars = text.str.findall(f"[{CJK}]+").explode().dropna()
    chars = chars.reset_index().rename(columns={"index": "row", "comment": "run"})
    chars["run_id"] = np.arange(len(chars))
    letters = chars.set_index("run_id")["run"].str.findall(".").explode().dropna()
    cjk = _ngrams(letters, char_ngrams, "")
    cjk["row"] = chars["row"].to_numpy()[cjk["row"].to_numpy(dtype=int)] if len(cjk) else cjk["row"]
    grams = pd.concat([grams, cjk.assign(script="cjk")], ignore_index=True).drop_duplicates(["row", "phrase"])
    grams["example"] = ids.to_numpy()[grams["row"].to_numpy(dtype=int)]
    out = grams.groupby(["phrase", "script", "n"], as_index=False).agg(
        comments=("row", "size"), example=("example", "first"))
    out = out.loc[out["comments"] >= min_count]
    out["share"] = out["comments"] / total
    out = out.sort_values(["comments", "n", "phrase"], ascending=[False, False, True], ignore_index=True)
    return out[columns]
