"""Vocabulary of the demo company: names, comment templates and 4Q conversation templates.

Private helper of :mod:`feedback_lib.demo`. Every comment template of a theme contains that
theme's keyword for its language (``THEME_KEYWORDS``, case-insensitive) and no other theme's
keyword, so a lexicon built from ``truth["theme_keywords"]`` recovers the planted theme exactly.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("North America", "EMEA", "Nordics", "APAC")
INDUSTRIES = (
    "Manufacturing", "Retail", "Software", "Financial Services",
    "Healthcare", "Logistics", "Education", "Media",
)
EXECUTIVES = ("Maria Virtanen", "David Okafor", "Sofia Lindqvist", "Chen Jing", "Michael Brennan")
CSMS = (
    "Li Wei", "Aino Mäkinen", "Oskar Nieminen", "Emma Johnson", "Lucas Martin", "Priya Sharma",
    "Zhang Min", "Olivia Brown", "Mikko Korhonen", "Hannah Schmidt", "Carlos Ruiz", "Yuki Tanaka",
)
COMPETITORS = ("Globex", "Initech", "Umbrella", "Hooli")
CHANNELS = ("email", "in-app")
SEVERITIES = ("low", "medium", "high", "critical")
TICKET_CATEGORIES = ("bug", "how-to", "billing", "performance", "integration", "access", "data-import")
MAIN_PLANS = ("Starter", "Professional", "Enterprise")  # by segment
ADDON_PLANS = ("Analytics add-on", "Extra seats add-on", "Premium support add-on", "API add-on")
PLANS = MAIN_PLANS + ADDON_PLANS

LANGUAGES = ("en", "fi", "zh")
# Language of an account's contacts by region (rows: REGIONS, columns: LANGUAGES).
LANGUAGE_BY_REGION = np.array([[1.0, 0.0, 0.0], [0.9, 0.05, 0.05], [0.25, 0.75, 0.0], [0.3, 0.0, 0.7]])

_NAME_FIRST = (
    "Nordic", "Blue", "Summit", "Aurora", "Pioneer", "Granite", "Harbor", "Polar",
    "Crescent", "Evergreen", "Lakeside", "Silver", "Atlas", "Vertex", "Golden", "Red River",
)
_NAME_SECOND = (
    "Steel", "Foods", "Logistics", "Health", "Software", "Media", "Retail", "Energy",
    "Labs", "Systems", "Partners", "Works",
)
_LEGAL_FORM = (" Inc.", " Ltd", " Oy", " Co., Ltd.")  # by region
_CONTACT_FIRST = (
    "anna", "james", "li", "mikko", "sara", "david", "aino", "wei", "emma", "lucas",
    "maria", "oskar", "priya", "chen", "olivia", "juha",
)
_CONTACT_LAST = (
    "smith", "virtanen", "wang", "korhonen", "johnson", "nieminen", "zhang", "brown",
    "laine", "garcia", "liu", "schmidt", "heikkinen", "tanaka", "martin", "lee",
)

THEMES = (
    "pricing", "support", "performance", "reporting",
    "onboarding", "integrations", "reliability", "ease_of_use",
)
THEME_KEYWORDS = {
    "pricing": {"en": "price", "fi": "hinnoittelu", "zh": "价格"},
    "support": {"en": "support", "fi": "asiakastuki", "zh": "客服"},
    "performance": {"en": "performance", "fi": "suorituskyky", "zh": "速度"},
    "reporting": {"en": "report", "fi": "raportointityökalu", "zh": "报表"},
    "onboarding": {"en": "onboarding", "fi": "käyttöönotto", "zh": "上手"},
    "integrations": {"en": "integration", "fi": "integraatio", "zh": "集成"},
    "reliability": {"en": "reliable", "fi": "käyttökatko", "zh": "稳定"},
    "ease_of_use": {"en": "easy to use", "fi": "käyttöliittymä", "zh": "界面"},
}

# COMMENT_TEMPLATES[polarity][language][theme]: two templates each.
COMMENT_TEMPLATES = {
    "negative": {
        "en": {
            "pricing": ("The price is too high for what we use.", "Price went up again at renewal, hard to justify."),
            "support": ("Support takes days to answer our tickets.", "Slow support, we had to chase every answer."),
            "performance": ("Performance is poor, dashboards take ages to load.", "Performance drops badly at month end."),
            "reporting": ("The reporting tool is clumsy and exports break.", "We cannot build the reports our board needs."),
            "onboarding": ("Onboarding took far too long.", "Onboarding new staff is painful without training material."),
            "integrations": ("The Salesforce integration keeps failing.", "Integration with our ERP breaks every week."),
            "reliability": ("Not reliable: we had two outages this month.", "The service is not reliable enough for us."),
            "ease_of_use": ("Not easy to use, the menus are confusing.", "The interface is far from easy to use."),
        },
        "fi": {
            "pricing": ("Hinnoittelu on liian kallis meidän tarpeisiin.", "Hinnoittelu nousi taas sopimuksen uusinnassa."),
            "support": ("Asiakastuki vastaa liian hitaasti.", "Asiakastuki ei ratkaissut ongelmaamme."),
            "performance": ("Suorituskyky on heikko, sivut latautuvat hitaasti.", "Suorituskyky heikkenee kuun lopussa."),
            "reporting": ("Raportointityökalu on kankea ja hidas.", "Raportointityökalu ei taivu johdon tarpeisiin."),
            "onboarding": ("Käyttöönotto kesti aivan liian kauan.", "Käyttöönotto oli työläs ilman koulutusta."),
            "integrations": ("Integraatio Salesforceen katkeilee.", "Integraatio ERP-järjestelmään ei toimi."),
            "reliability": ("Liikaa käyttökatkoja tässä kuussa.", "Taas käyttökatko kesken kiireisimmän päivän."),
            "ease_of_use": ("Käyttöliittymä on sekava ja vaikea.", "Käyttöliittymä vaatii liikaa klikkauksia."),
        },
        "zh": {
            "pricing": ("价格太贵", "续约时价格又涨了"),
            "support": ("客服响应太慢", "客服没有解决我们的问题"),
            "performance": ("系统速度太慢", "月底时速度明显变慢"),
            "reporting": ("报表功能太弱", "报表经常导出失败"),
            "onboarding": ("新员工很难上手", "上手花了太长时间"),
            "integrations": ("和ERP的集成经常出错", "集成配置太复杂"),
            "reliability": ("系统不稳定，经常宕机", "服务不够稳定"),
            "ease_of_use": ("界面太复杂", "界面不直观，操作麻烦"),
        },
    },
    "positive": {
        "en": {
            "pricing": ("Fair price for the value we get.", "Good price compared with the alternatives."),
            "support": ("Support is fast and really helpful.", "Great support team, they solved our issue the same day."),
            "performance": ("Performance is excellent, everything loads quickly.", "Solid performance even with our large data volumes."),
            "reporting": ("Reporting is great, the monthly reports save us hours.", "Love the new report builder."),
            "onboarding": ("Onboarding was smooth and quick.", "Smooth onboarding, the team was live in a week."),
            "integrations": ("The integration with our CRM works well.", "Integrations were simple to set up."),
            "reliability": ("Very reliable, no downtime this year.", "Reliable service, it just works."),
            "ease_of_use": ("Very easy to use, everyone picked it up.", "Clean interface and easy to use."),
        },
        "fi": {
            "pricing": ("Hinnoittelu on reilu ja selkeä.", "Hinnoittelu on kilpailukykyinen."),
            "support": ("Asiakastuki on nopea ja ystävällinen.", "Asiakastuki auttoi samana päivänä."),
            "performance": ("Suorituskyky on erinomainen.", "Suorituskyky riittää suurillekin datamäärille."),
            "reporting": ("Raportointityökalu säästää meiltä tunteja.", "Uusi raportointityökalu on loistava."),
            "onboarding": ("Käyttöönotto sujui nopeasti.", "Käyttöönotto oli helppo ja hyvin tuettu."),
            "integrations": ("Integraatio CRM-järjestelmään toimii hyvin.", "Integraatio oli helppo ottaa käyttöön."),
            "reliability": ("Ei yhtään käyttökatkoa koko vuonna.", "Palvelu toimii ilman käyttökatkoja."),
            "ease_of_use": ("Käyttöliittymä on selkeä ja helppo.", "Käyttöliittymä on todella selkeä."),
        },
        "zh": {
            "pricing": ("价格合理", "价格很有竞争力"),
            "support": ("客服很专业", "客服响应很快"),
            "performance": ("速度很快", "数据量大时速度依然很好"),
            "reporting": ("报表功能很好用", "新的报表节省了很多时间"),
            "onboarding": ("上手很快", "团队一周内就上手了"),
            "integrations": ("集成很方便", "和CRM的集成运行良好"),
            "reliability": ("系统非常稳定", "一年来一直很稳定"),
            "ease_of_use": ("界面简洁直观", "界面设计很清晰"),
        },
    },
}
_JOINER = {"en": " ", "fi": " ", "zh": "，"}  # between two themes of one comment

Q1_PLAIN = (
    "Growing steadily, hiring in sales.", "A flat year, focus is on margins.",
    "Expanding into two new markets.", "Budget freeze until next quarter.",
    "Merging two business units.",
)
Q1_OPPORTUNITY = (
    "Planning to roll the product out to another team.", "Opening a new office and need more seats.",
    "Asked for a quote for the analytics module.",
)
Q2 = (
    "Consolidation among the big players.", "Regulation is getting stricter.",
    "Customers expect faster delivery.", "Prices are under pressure.",
    "Everyone is talking about AI.",
)
Q3_NONE = ("Not hearing much about alternatives.", "No competitor activity mentioned.", "Happy where they are.")
Q3_ONE = (" pitched them a cheaper plan.", " demoed a new reporting module.", " is calling their CFO.")
Q3_TWO = " both approached them this quarter."
Q4_BY_FRICTION = (
    ("Happy with the service.", "You are easy to work with.", "The product does what we need."),
    ("Mostly fine, a few rough edges.", "Support could be quicker.", "Renewal price needs a discussion."),
    ("Support is slow to respond.", "Too many outages lately.", "Reports are hard to build."),
)


def pick(options: tuple[str, ...], index: np.ndarray) -> np.ndarray:
    """Object array of ``options[index]``."""
    return np.asarray(options, dtype=object)[index]


def company_names(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Fake company names such as ``"Polar Steel Oy"`` (legal form by region)."""
    n = len(region)
    first = pick(_NAME_FIRST, rng.integers(len(_NAME_FIRST), size=n))
    second = pick(_NAME_SECOND, rng.integers(len(_NAME_SECOND), size=n))
    return first + " " + second + pick(_LEGAL_FORM, region)


def contact_emails(rng: np.random.Generator, account_number: np.ndarray) -> np.ndarray:
    """Fake ``first.lastNNN@example.com`` addresses, unique through the account number."""
    n = len(account_number)
    first = pick(_CONTACT_FIRST, rng.integers(len(_CONTACT_FIRST), size=n))
    last = pick(_CONTACT_LAST, rng.integers(len(_CONTACT_LAST), size=n))
    return first + "." + last + account_number.astype(str).astype(object) + "@example.com"


def comments(
    rng: np.random.Generator, score: np.ndarray, language: np.ndarray, *, theme_weights: np.ndarray
) -> np.ndarray:
    """Verbatim comments for NPS responses, empty for some.

    Detractors (0-6) get negative templates, promoters (9-10) positive ones, passives either
    (60% negative). Empty with probability 15% / 60% / 30% for detractors / passives / promoters;
    a quarter of the others name a second theme. ``language`` indexes ``LANGUAGES``.
    """
    n = len(score)
    category = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    negative = np.where(category == 1, rng.random(n) < 0.6, category == 0)
    empty = rng.random(n) < np.array([0.15, 0.6, 0.3])[category]
    n_themes, n_variants = len(THEMES), 2
    # flat table indexed by ((polarity * languages + language) * themes + theme) * variants + variant
    table = np.array(
        [
            COMMENT_TEMPLATES[polarity][lang][theme][v]
            for polarity in ("positive", "negative")
            for lang in LANGUAGES
            for theme in THEMES
            for v in range(n_variants)
        ],
        dtype=object,
    )
    base = (negative.astype(np.int64) * len(LANGUAGES) + language) * n_themes
    p = theme_weights / theme_weights.sum()
    first = rng.choice(n_themes, size=n, p=p)
    second = (first + 1 + rng.integers(n_themes - 1, size=n)) % n_themes
    text = table[(base + first) * n_variants + rng.integers(n_variants, size=n)]
    two = rng.random(n) < 0.25
    extra = table[(base + second) * n_variants + rng.integers(n_variants, size=n)]
    joiner = pick(tuple(_JOINER[lang] for lang in LANGUAGES), language)
    text = np.where(two, text + joiner + extra, text)
    return np.where(empty, "", text).astype(object)
