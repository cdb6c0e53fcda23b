"""Full-text search over mentions: `/mentions search <words>` end to end through the sandbox, and
``Store.search`` on a fresh database (prefixes, Korean particles, brands, order, injection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import make_mention
from support import card_for, post

from bot.sandbox.harness import JANE, Sandbox
from bot.storage.mentions import SearchQueryError, fts_query
from bot.storage.store import Store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _say(sandbox: Sandbox, text: str) -> str:
    assert sandbox.driver is not None
    answer = sandbox.driver.command(user=JANE, text=text)
    assert answer.status == 200, answer
    return str(answer.json().get("text", ""))


def test_mentions_search_lists_matching_mentions_with_their_cases(bot: Sandbox) -> None:
    post(bot, "@SkylarkAir where is my refund for SK212? <!channel>", handle="ana")
    post(bot, "@SkylarkAir my bag never arrived in Lisbon", handle="bo")
    post(bot, "@SkylarkAir still no refunds after three weeks", handle="cy")
    for handle in ("ana", "bo", "cy"):
        card_for(bot, handle)

    answer = _say(bot, "search refund")

    assert "2 mention(s) matching “refund”" in answer
    assert answer.index("@cy") < answer.index("@ana")  # newest first
    assert "@bo" not in answer
    store = bot.runtime.services.store  # type: ignore[union-attr]
    case = store.search("refund")[0].case
    assert case is not None and f"|#{case.id}>" in answer and "open" in answer
    assert "&lt;!channel&gt;" in answer and "<!channel>" not in answer  # no ping from a customer


def test_mentions_search_explains_a_query_without_words(bot: Sandbox) -> None:
    assert "Search for what?" in _say(bot, "search")
    assert "has no word to search for" in _say(bot, 'search "*"')
    assert "No mention matches “lounge”" in _say(bot, "search lounge")


@pytest.fixture
def store(store: Store) -> Store:
    """The shared fresh store, with four mentions of Skylark Air (x:0..x:3, a minute apart) and
    one of Other Air (x:9), each by its own author."""
    pages = [
        [
            (0, "My refund never arrived", "Skylark Air"),
            (1, "환불이 아직 안 들어왔어요", "Skylark Air"),
            (2, "Café au lait was cold", "Skylark Air"),
            (3, "Refunded at last, thanks!", "Skylark Air"),
        ],
        [(9, "refund please", "Other Air")],
    ]
    for page in pages:
        mentions = [
            make_mention(
                text,
                native_id=n,
                author_id=str(n),
                handle=f"user{n}",
                created=T0 + timedelta(minutes=n),
                brand=brand,
                lang="en",
            )
            for n, text, brand in page
        ]
        store.save_mentions(mentions, received_at=T0, cursors={})
    return store


def test_words_match_as_prefixes_newest_first(store: Store) -> None:
    assert [f.mention.id for f in store.search("refund")] == ["x:9", "x:3", "x:0"]
    assert [f.mention.id for f in store.search("REFUND never")] == ["x:0"]


def test_korean_words_match_with_their_particles(store: Store) -> None:
    assert [f.mention.id for f in store.search("환불")] == ["x:1"]


def test_accents_do_not_matter(store: Store) -> None:
    assert [f.mention.id for f in store.search("cafe")] == ["x:2"]


def test_a_brand_and_a_limit_narrow_the_matches(store: Store) -> None:
    assert [f.mention.id for f in store.search("refund", brand="skylark air")] == ["x:3", "x:0"]
    assert len(store.search("refund", limit=1)) == 1


def test_a_mention_without_a_case_is_found_without_one(store: Store) -> None:
    assert all(found.case is None for found in store.search("refund"))


@pytest.mark.parametrize(
    "query",
    ['refund" OR "cafe', "text:refund", "refund*) NEAR(", "-refund", "refund AND NOT x"],
)
def test_fts_syntax_in_a_query_is_only_words(store: Store, query: str) -> None:
    found = store.search(query)  # never an FTS syntax error
    assert all("refund" in f.mention.text.lower() for f in found)


@pytest.mark.parametrize("query", ["", "   ", '"*"', "-- ()"])
def test_a_query_without_words_says_what_to_type(query: str) -> None:
    with pytest.raises(SearchQueryError, match="/mentions search"):
        fts_query(query)
