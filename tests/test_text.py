"""Tests of feedback_lib.verbatims.themes: lexicon loading, multilingual theme tagging, phrase discovery."""

from __future__ import annotations

import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError
from feedback_lib.verbatims.themes import (
    discover_phrases,
    load_lexicon,
    normalize_text,
    tag_themes,
)


def themes_of(comments: list[str], **kwargs) -> list[set[str]]:
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(len(comments))], "comment": comments})
    tagged = tag_themes(responses, **kwargs)
    return [set(tagged.loc[tagged["response_id"] == f"r{i}", "theme"]) for i in range(len(comments))]


@pytest.mark.parametrize("comment, expected", [
    # Finnish: stems inside compounds
    ("Raportointityökalu on hidas", {"reporting"}),  # "hidas" is deliberately not performance
    ("Asiakastuki ei vastaa viesteihin", {"support"}),
    ("Tuen laatu on heikentynyt", {"support"}),
    ("Hinnoittelu on liian kallis", {"pricing"}),
    ("Käyttöliittymä on sekava", {"ease_of_use"}),  # not an integration despite "liittymä"
    ("Käyttöönotto kesti kauan", {"onboarding"}),  # not ease of use despite "käyttö"
    ("Integraatio Salesforceen katkeilee", {"integrations"}),  # "katkeilee" is not "katko"
    ("Taas käyttökatko", {"reliability"}),
    ("Tukikohta on Oulussa", set()),  # excluded false positive of "tuki"
    # Chinese: substrings, no spaces
    ("客服响应太慢", {"support"}),  # "慢" alone is not performance
    ("价格太贵，报表经常导出失败", {"pricing", "reporting"}),
    ("报表功能很好用", {"reporting"}),  # "好用" is not ease of use
    ("集成配置太复杂", {"integrations"}),
    ("贵公司的服务很好", set()),  # "贵" alone is the polite "your"
    # English: words and prefixes; short keywords whole words only
    ("Reports are great", {"reporting"}),
    ("The capital region team", set()),  # "api" only as a whole word
    ("Our API calls are failing", {"integrations"}),
    ("Unreliable service, two outages", {"reliability"}),
    ("Support is fast", {"support"}),  # "fast" is not performance
    ("", set()),
])
def test_tag_themes_default_lexicon(comment, expected):
    assert themes_of([comment])[0] == expected


def test_tag_themes_normalises_unicode_and_case():
    # full-width Latin letters (NFKC) and upper case; a soft hyphen does not break the stem match
    assert themes_of(["ＰＲＩＣＥ ＩＳ ＨＩＧＨ", "RAPORTOINTI on hyvä", "Hinta\u00a0nousi"]) == [
        {"pricing"}, {"reporting"}, {"pricing"}]
    assert normalize_text(pd.Series(["A  b\tC"])).tolist() == ["a b c"]


def test_tag_themes_long_format_in_response_order_with_keyword():
    responses = pd.DataFrame({"response_id": ["x", "y", "z"],
                              "comment": ["客服 and price", None, "Raportit ovat hitaita"]})
    tagged = tag_themes(responses)
    assert tagged[["response_id", "theme"]].values.tolist() == [["x", "pricing"], ["x", "support"],
                                                                 ["z", "reporting"]]
    assert tagged["keyword"].tolist() == ["price", "客服", "raport"]


def test_custom_lexicon_from_dict_and_yaml(tmp_path):
    lex = {"mobile": {"en": ["app"], "fi": ["sovellu"], "zh": ["移动端"]}}
    assert themes_of(["The app crashes", "Sovellus kaatuu", "移动端闪退", "happy"], lexicon=lex) == [
        {"mobile"}, {"mobile"}, {"mobile"}, set()]
    path = tmp_path / "themes.yaml"
    path.write_text("match: {fi: substring}\nthemes:\n  billing:\n    en: [invoice]\n    fi: [lasku]\n"
                    "exclude:\n  billing:\n    fi: [laskuri]\n", encoding="utf-8")
    assert themes_of(["Invoices are wrong", "Laskutus myöhässä", "Laskuri rikki", "reinvoice"],
                     lexicon=path) == [{"billing"}, {"billing"}, set(), set()]
    frame = load_lexicon(path).to_frame()
    assert frame.columns.tolist() == ["theme", "language", "keyword", "match"]
    assert frame.set_index("keyword").loc["lasku", "match"] == "substring"


def test_load_lexicon_errors_name_the_problem(tmp_path):
    with pytest.raises(FeedbackLibError, match="unknown match mode"):
        load_lexicon({"themes": {"a": {"en": ["x"]}}, "match": {"en": "fuzzy"}})
    with pytest.raises(FeedbackLibError, match="must map languages"):
        load_lexicon({"a": ["x"]})
    with pytest.raises(FeedbackLibError, match="unknown theme"):
        load_lexicon({"themes": {"a": {"en": ["x"]}}, "exclude": {"b": {"en": ["y"]}}})
    with pytest.raises(FeedbackLibError, match="cannot read"):
        load_lexicon(tmp_path / "missing.yaml")


def test_default_lexicon_ships_en_fi_zh_for_every_theme():
    lex = load_lexicon()
    assert len(lex.themes) == 8
    for theme, by_language in lex.themes.items():
        assert {"en", "fi", "zh"} <= set(by_language), theme
    assert lex.match == {"en": "prefix", "fi": "substring", "zh": "substring"}


def test_discover_phrases_finds_untagged_word_and_cjk_ngrams():
    responses = pd.DataFrame({"response_id": [f"r{i}" for i in range(7)], "comment": [
        "Dark mode please", "Please add dark mode", "dark mode would be nice", "Price is fine",
        "希望增加暗色模式", "暗色模式什么时候上线", "",
    ]})
    tagged = tag_themes(responses)
    out = discover_phrases(responses, tagged=tagged, min_count=2)
    got = out.set_index("phrase")
    # "price is fine" is tagged; the rest: "dark mode" in 3 comments, 暗色模式 run in 2
    assert got.loc["dark mode", "comments"] == 3 and got.loc["dark mode", "script"] == "word"
    assert got.loc["暗色模", "comments"] == 2 and got.loc["色模式", "n"] == 3
    assert got.loc["dark mode", "share"] == pytest.approx(3 / 5)  # 5 untagged non-empty comments
    assert "please" in got.index and "would" not in got.index  # stop words never start or end a phrase
    assert (out["comments"] >= 2).all()
    assert discover_phrases(responses, tagged=tagged, min_count=4).empty


def test_demo_comments_tagged_exactly_as_planted():
    """Every demo comment template of a theme contains truth["theme_keywords"][theme][language] and
    no other theme's keyword, so tagging with those keywords is the planted truth."""
    from feedback_lib.demo.company import generate_demo

    demo = generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")
    truth = {"themes": {t: {lang: [kw] for lang, kw in by.items()} for t, by in demo.truth["theme_keywords"].items()},
             "match": {"en": "substring", "fi": "substring", "zh": "substring"}}
    planted = tag_themes(demo.responses, lexicon=truth)
    ours = tag_themes(demo.responses)
    assert len(planted) > 500
    pd.testing.assert_frame_equal(ours[["response_id", "theme"]], planted[["response_id", "theme"]])
    assert set(ours["theme"]) == set(demo.truth["themes"])
    leftovers = discover_phrases(demo.responses, tagged=ours, min_count=5)
    assert leftovers.empty  # every demo comment is a template with a theme
