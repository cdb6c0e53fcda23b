"""How a past reply is read before it is learned from: the customer's leading @handles, the
agent's signature (``^JK``, "- Jane"), page marks ("1/2", ">>") and trailing links go, and a
greeting's name becomes ``{customer}``; ``comparable`` is the form two replies are compared in.
Pure (no I/O); used by ``bot.decide.distill``.
"""

from __future__ import annotations

import html
import re

_HANDLES = re.compile(r"^(?:[.]?@\w+[\s,:]*)+")
_ANY_HANDLE = re.compile(r"(?<!\w)[.]?@\w+")
URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?)\]\"'’]*(?:\s|$))", re.IGNORECASE)
_TRAILING_URLS = re.compile(r"(?:\s+https?://\S+)+\s*$", re.IGNORECASE)
_CONTINUED = re.compile(r"\s*(?:>{2,}|»)\s*$")  # "… more in the next tweet >>"
_PAGE = re.compile(r"\s*[(\[]?\b(?P<page>[1-9])/(?P<of>[1-9])[)\]]?\s*$")  # 1/2, (2/3)
_SIGNATURE = re.compile(
    r"\s*(?:[\^*~]\s?[A-Za-z][\w.'’-]{0,24}"  # ^JK  *TRR  ~Sam  ^ab
    r"|(?:(?<=[\s.!?,;:)])|^)[-–—/]\s?[A-Z][A-Za-z'’-]{0,24}(?:\s[A-Z]\.?)?)"  # -Becky / AB
    r"\s*[.]?\s*$"
)
_GREETING = re.compile(
    r"^(?P<hello>(?:hi|hey|hello|hiya|heya|howdy|dear|good (?:morning|afternoon|evening)))"
    r"(?P<comma>,?)\s+(?P<name>@\w+|[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)?)(?P<end>\s*[,!.:;]|\s*$)",
    re.IGNORECASE,
)
GREETINGS = frozenset("hi hey hello hiya heya howdy dear hola bonjour hallo ciao ola olá".split())
_NOT_NAMES = frozenset(
    "there all again everyone everybody folks friend friends team guys y'all you".split()
)
SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
PLACEHOLDER = re.compile(r"\{[a-z_]+\??\}")
WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
STOPWORDS = frozenset(
    (
        "a an the and or but if to of in on at for from by with is are was were be been am i me "
        "my we our you your it its this that these those so do does did have has had can could "
        "will would just get got im i'm there their they them he she his her as up out about "
        "what when where why how who which all any some than then too very not no dont don't "
        "cant can't it's its ive i've u ur us pls please hi hey hello thanks thank amp rt via "
        "also still now one"
    ).split()
)


def normalise_reply(text: str, *, agent: str | None = None, customer: str = "") -> str:
    """The reply as a template would say it: no leading @handles, no signature, one space.

    A greeting name ("Hi Sarah," "Hey @sam!") and the customer's first name, when known, become
    ``{customer}``. Links stay. Braces become parentheses so the text is a safe template.
    """
    text = html.unescape(text).replace("{", "(").replace("}", ")")
    text = SPACE.sub(" ", _HANDLES.sub("", text.strip())).strip()
    text = strip_signature(text, agent=agent)
    if customer.strip():
        text = re.sub(rf"(?<!\w){re.escape(customer.strip())}(?!\w)", "{customer}", text)
    return _greeting(text)


def strip_signature(text: str, *, agent: str | None = None) -> str:
    """Drop the agent's sign-off (``^JK``, ``-Becky``, ``*TRR``, ``/AB``, ``~Sam``, ``^JK 1/2``).

    Trailing links after a signature ("… /AB https://t.co/x") are kept, after the text.
    """
    links = _TRAILING_URLS.search(text)
    tail = links.group(0).strip() if links else ""
    body = text[: links.start()] if links else text
    hint = _agent_pattern(agent)
    while True:
        before = body
        body = _CONTINUED.sub("", _PAGE.sub(_no_page, body))
        body = _SIGNATURE.sub("", body)
        if hint is not None:
            body = hint.sub("", body)
        body = body.rstrip()
        if body == before:
            break
    return f"{body} {tail}".strip() if body else tail


def _no_page(found: re.Match[str]) -> str:
    return "" if found.group("page") <= found.group("of") else found.group(0)


def _agent_pattern(agent: str | None) -> re.Pattern[str] | None:
    name = (agent or "").strip()
    if not name or not WORD.fullmatch(name):
        return None
    return re.compile(rf"(?:\s*[-–—/^*~]\s*|\s+){re.escape(name)}\.?\s*$", re.IGNORECASE)


def _greeting(text: str) -> str:
    found = _GREETING.match(text)
    if not found or found.group("name").casefold() in _NOT_NAMES:
        return text
    hello, comma, end = found.group("hello", "comma", "end")
    return f"{hello}{comma} {{customer}}{end}{text[found.end() :]}"


def mention_text(text: str) -> str:
    """A mention as an example: no handles, no links, one space between words."""
    text = URL.sub(" ", _ANY_HANDLE.sub(" ", html.unescape(text)))
    return SPACE.sub(" ", text).strip()


def links(text: str) -> list[str]:
    """Web addresses in ``text``, trailing punctuation left out (t.co links stay opaque)."""
    return URL.findall(text)


def comparable(text: str) -> str:
    """Text for likeness: lowercase, placeholders, slots and links as marks, digits as 0."""
    text = PLACEHOLDER.sub(lambda m: "" if m.group(0).endswith("?}") else m.group(0), text)
    text = _DIGITS.sub("0", URL.sub("<url>", text.casefold()))
    return SPACE.sub(" ", text).strip()
