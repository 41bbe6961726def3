"""Polarity of each statement of a comment, with negation, in English, Finnish and Chinese.

A theme is a topic; a *problem* is a theme raised in a negative statement. "Very reliable, no
downtime this year" names reliability twice and complains about nothing; "Great support, but the
price went up again" praises support and complains about pricing. This module splits comments
into statements and scores each one with a small cue lexicon in which negators flip the cue that
follows them (Hu & Liu 2004 opinion lexicon idea; negation scope as in Das & Chen 2001). The
labelled evaluation set ``tests/data/problem_labels.csv`` (306 hand-written comments) checks it.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib.verbatims.themes import CJK, normalize_text

__all__ = ["split_statements", "statement_polarity"]

# Negative and positive cues. English cues match at the start of a word (a trailing \w* where
# inflections matter); Finnish cues anywhere (compounds, case endings); Chinese anywhere.
# At one position the longest cue wins, so "epäluotettava" is negative before "luotettava" is
# positive, "不错" (not bad = good) is one positive cue and "ongelmitta" (without problems) is praise.
_EN_NEGATIVE = (
    r"slow\w*", r"poor\w*", r"bad(?:ly)?", r"broke\w*", r"break\w*", r"fail\w*", r"crash\w*",
    r"outages?", r"downtime", r"bugs?", r"buggy", r"errors?", r"expensive", r"overpriced", r"pricey",
    r"hard(?:er)?", r"difficult", r"confus\w*", r"clumsy", r"painful", r"terribl\w*", r"awful",
    r"worse", r"worst", r"lack\w*", r"missing", r"issues?", r"problems?", r"frustrat\w*",
    r"annoy\w*", r"disappoint\w*", r"unreliable", r"unhelpful", r"useless", r"hopeless",
    r"nightmare", r"lag\w*", r"(?:take[sn]?|took|taking) (?:ages|days|weeks|months|forever)",
    r"drag\w* on", r"chas(?:e|ed|ing)", r"drops?", r"dropp\w*",
    r"(?:went|was|is|goes|go|were) down", r"(?:went|goes|go|gone) up", r"limited", r"hidden fees?", r"outdated", r"cluttered",
    r"spammy", r"loses", r"losing", r"lost", r"tim(?:es|ed|ing) out", r"timeouts?", r"complex",
    r"complicated", r"cumbersome", r"waste\w*", r"unclear", r"hate\w*", r"dislike\w*", r"nobody",
    r"no one", r"complain\w*", r"too \w+", r"without warning", r"unusable", r"glitch\w*",
    r"stuck", r"hitch\w*", r"mess(?:y)?", r"horrible", r"unacceptable", r"mediocre", r"unstable",
)
_EN_POSITIVE = (
    r"good", r"great", r"excellent", r"fast\w*", r"quick\w*", r"helpful", r"easy", r"easier",
    r"easily", r"smooth\w*", r"reliab(?:le|ility)", r"lov(?:e|es|ed|ing)", r"fair", r"clean",
    r"solid", r"works?(?: well| fine| great)?", r"worked", r"simple", r"intuitive", r"happy",
    r"nice", r"saves?", r"perfect\w*", r"stable", r"responsive", r"friendly", r"best",
    r"improve\w*", r"awesome", r"amazing", r"clear\w*", r"flawless\w*", r"useful", r"handy",
    r"proactive", r"recommend\w*", r"worth\w*", r"reasonable", r"transparent", r"straightforward",
    r"flexible", r"powerful", r"lik(?:e|es|ed)", r"modern", r"complete", r"well (?:organi[sz]ed|documented)",
    r"efficient", r"fine", r"solv\w*", r"fix(?:es|ed)?", r"ahead of schedule", r"satisf\w*",
    r"nothing to complain about", r"keep it up", r"rely on", r"enjoy\w*", r"impressive",
)
# negators flip the next cue within a few words; those marked True are negative on their own
# ("never answers", "doesn't load", "ei toimi"), the others only flip ("without a hitch").
_EN_NEGATORS = {
    r"not": True, r"no": True, r"never": True, r"\w+n['’]t": True, r"cannot": True,
    r"hardly": True, r"nothing": False, r"without": False, r"no longer": True, r"far from": True,
}
_FI_NEGATIVE = (
    "hidas", "hitaa", "kallis", "kallii", "huono", "heikko", "heikke", "heiko", "kankea", "sekava",
    "vaike", "työläs", "työlä", "ongelm", "virhe", "katke", "katko", "kaatu", "jumi", "liikaa",
    r"liian \w+", "turhaut", "pettyn", "pettymy", "ärsyttä", "surkea", "puuttu", "puutteelli",
    "rikko", "rikki", "epävakaa", "epäluotettav", "hankala", "kömpelö", "vanhanaikai", "hyödytön",
    "kohtuuton", "myöhä", "viive", "viivei", "viipy", "huomiotta", "bugi", "valitta", "valitettav",
    "nousi", "korotu", "korotus", "vaikeakäyt", "sotku", "epäselv", "kesti kauan",
)
_FI_POSITIVE = (
    "hyvä", "hyvin", "hyvää", "hyväst", "loistav", "erinomai", "nopea", "nopeasti", "nopeu",
    "selke", "helppo", "helpo", "reilu", "ystävälli", r"(?<!\w)toimi", "tyytyväi", "kiitos", "kätevä",
    "sujui", "sujuu", "sujuva", "sujuneet", "luotettav", "kilpailukykyi", "säästä", "paras",
    "mahtav", "vakaa", "hyödylli", "kattava", "intuitiivi", "vaivato", "kohtuulli", "mainio",
    "onnistu", "ratkais", "suosit", "monipuoli", "joustav", "kuuntele", "parannu", "korja",
    r"(?<!\w)autt(?:aa|oi|anut|avat)", "ongelmitta", "virheettä", "ei valittamista", "ei moitittavaa",
    "ei mitään lisättävää", "tehokas", "selvä",
)
_FI_NEGATORS = {r"ei": True, r"en": True, r"eivät": True, r"emme": True, r"et": True,
                r"ette": True, r"eikä": True, r"ilman": False, r"mikään": False}
_ZH_NEGATIVE = (
    "慢", "贵", "差", "弱", "失败", "出错", "错误", "问题", "故障", "宕机", "崩溃", "卡顿", "闪退", "麻烦",
    "复杂", "难", "超时", "混乱", "过时", "丢", "失望", "一般", "太多", "太少", "太低", "太高", "太长",
    "太久", "涨", "缺少", "缺", "bug", "频繁", "拖", "无法", "糟糕", "烦", "投诉", "不满",
)
_ZH_POSITIVE = (
    "好", "快", "稳定", "满意", "专业", "合理", "方便", "清晰", "简洁", "直观", "良好", "优秀", "喜欢",
    "节省", "有竞争力", "顺利", "及时", "可靠", "好用", "易用", "不错", "划算", "实用", "完善", "完整",
    "详细", "清楚", "漂亮", "强大", "有用", "帮助", "改进", "正常", "谢谢", "推荐", "物有所值", "容易",
    "简单", "解决", "处理", "修复", "理想", "明了", "感谢", "高效",
)
_ZH_NEGATORS = {"不": True, "没有": True, "没": True, "未": True, "从未": True, "无": True,
                "不够": True, "并非": True}
_NEGATION_WORDS = 3  # words (latin) between a negator and the cue it flips
_NEGATION_CHARS = 4  # characters (Chinese)

_SPLIT = re.compile(
    r"[.!?;:,。！？；，、\n]+|\s+(?:but|however|although|though|except|mutta|vaikka|paitsi)\s+"
    r"|但是|但|可是|不过|然而"
)


@cache
def _scanner() -> tuple[re.Pattern[str], tuple[tuple[str, int, bool], ...]]:
    """One regex with a group per cue; ``kinds[i] = (kind, value, negative_alone)``."""
    items: list[tuple[str, str, int, bool]] = []  # (regex, kind, value, negative_alone)
    latin = {False: r"(?<![\w'’])", True: ""}  # English: start of a word; Finnish: anywhere
    for words, value, substring in ((_EN_NEGATIVE, -1, False), (_EN_POSITIVE, 1, False),
                                    (_FI_NEGATIVE, -1, True), (_FI_POSITIVE, 1, True),
                                    (_ZH_NEGATIVE, -1, True), (_ZH_POSITIVE, 1, True)):
        items += [(latin[substring] + w + (r"" if substring else r"(?!\w)"), "cue", value, False)
                  for w in words]
    for negators in (_EN_NEGATORS, _FI_NEGATORS):
        items += [(rf"(?<![\w'’]){w}(?!\w)", "negator", 0, alone) for w, alone in negators.items()]
    items += [(w, "negator", 0, alone) for w, alone in _ZH_NEGATORS.items()]
    # longest first: at one position the most specific alternative wins
    items.sort(key=lambda item: len(re.sub(r"\\\w|[()?:*+\[\]|!<'’]", "", item[0])), reverse=True)
    pattern = "|".join(f"(?P<c{i}>{regex})" for i, (regex, *_rest) in enumerate(items))
    return re.compile(pattern), tuple((kind, value, alone) for _r, kind, value, alone in items)


def _gap_ok(gap: str) -> bool:
    if re.search(f"[{CJK}]", gap):
        return len(gap.strip()) <= _NEGATION_CHARS
    return len(gap.split()) <= _NEGATION_WORDS


def _polarity(statement: str) -> int:
    """Sum of cue values, negators applied; the sign is the statement's polarity."""
    pattern, kinds = _scanner()
    found = [(m.start(), m.end(), *kinds[int(str(m.lastgroup)[1:])]) for m in pattern.finditer(statement)]
    total, i = 0, 0
    while i < len(found):
        _start, end, kind, value, alone = found[i]
        if kind == "cue":
            total += value
            i += 1
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and nxt[2] == "cue" and _gap_ok(statement[end:nxt[0]]):
            total -= nxt[3]
            i += 2
            continue
        total -= int(alone)
        i += 1
    return total


def split_statements(text: str) -> list[str]:
    """Split a comment into statements at sentence marks, commas and contrastive conjunctions.

    Examples
    --------
    >>> split_statements("Great support, but the price went up again.")
    ['great support', 'the price went up again']
    >>> split_statements("服务很好，但是系统经常卡顿。")
    ['服务很好', '系统经常卡顿']
    """
    norm = normalize_text(pd.Series([text])).iloc[0]
    return [s.strip() for s in _SPLIT.split(norm) if s and s.strip()]


def statement_polarity(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per statement of each comment with its polarity (negative, neutral, positive).

    Parameters
    ----------
    responses
        ``response_id, comment`` (any of English, Finnish, Chinese; empty comments give no rows).

    Returns
    -------
    DataFrame
        ``response_id, statement_no`` (1-based within the comment), ``statement`` (normalised
        text), ``score`` (sum of cue values after negation) and ``polarity`` (``"negative"``,
        ``"neutral"`` or ``"positive"``, the sign of ``score``).

    Notes
    -----
    A comment is split at sentence marks, commas and "but"/"mutta"/"但是". In each statement
    every cue of the lexicon scores -1 (complaint) or +1 (praise); a negator ("not", "no",
    "never", "n't", "without"; Finnish "ei"/"eivät"/"ilman"; Chinese 不/没有/未) flips the cue
    that follows within 3 words (4 characters in Chinese): "no downtime" is +1 and "not
    reliable" -1. "not", "never", "ei", 不, 没有 with no cue after them count -1 ("never
    answers", "raportit eivät lataudu"). Precision and recall of "has a negative statement"
    are tested on 306 hand-labelled comments (``tests/data/problem_labels.csv``).

    References
    ----------
    Hu, M. & Liu, B. (2004). Mining and summarizing customer reviews. *KDD '04*, 168-177.
    Das, S. & Chen, M. (2001). Yahoo! for Amazon: extracting market sentiment from stock message
    boards. *APFA 2001* (negation scope: flip the words that follow a negator).

    Examples
    --------
    >>> r = pd.DataFrame({"response_id": ["r1", "r2"], "comment": [
    ...     "Very reliable, no downtime this year", "Not reliable: we had two outages"]})
    >>> statement_polarity(r)[["response_id", "statement", "polarity"]]
      response_id               statement  polarity
    0          r1           very reliable  positive
    1          r1  no downtime this year  positive
    2          r2            not reliable  negative
    3          r2     we had two outages  negative
    """
    require_columns(responses, ["response_id", "comment"], table="responses", where="statement_polarity")
    ids: list[str] = []
    numbers: list[int] = []
    statements: list[str] = []
    for rid, comment in zip(responses["response_id"].astype("string"), responses["comment"], strict=True):
        if not isinstance(comment, str) or not comment.strip():
            continue
        parts = split_statements(comment)
        ids += [rid] * len(parts)
        numbers += range(1, len(parts) + 1)
        statements += parts
    score = np.array([_polarity(s) for s in statements], dtype=np.int64)
    polarity = np.select([score < 0, score > 0], ["negative", "positive"], "neutral")
    return pd.DataFrame({"response_id": pd.Series(ids, dtype="string"),
                         "statement_no": np.asarray(numbers, dtype=np.int64),
                         "statement": pd.Series(statements, dtype=object), "score": score,
                         "polarity": pd.Series(polarity, dtype=object)})
