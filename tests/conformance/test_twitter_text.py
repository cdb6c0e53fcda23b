"""X's weighted length against X's own library: npm twitter-text 3.1.0's ``parseTweet`` (v3).

The differential test asks twitter-text about 12,000 generated texts (``corpus.py``, seeded) in one
node process and compares its weightedLength and valid with ``bot.decide.voice`` (the bot's
counter) and with ``bot.sandbox.x`` (the X emulator's own); it prints its figures and a final JSON
line. The target is no disagreement at all; ``ALLOWED`` would list any disagreement judged right by
X's current "Counting characters" page, with the reason, and holds none: emoji newer than twitter-
text's data (Unicode 13 on) are counted as twitter-text counts them, not allowed for.

The other tests check what the bot copies from the packages (top-level domains, the emoji regex,
JavaScript's case-insensitive classes, code unit by code unit) and re-ask twitter-text the
expected values of the fast suite's cases (``tests/test_voice.py``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_voice import TWITTER_TEXT_CASES

from bot.decide import lengths, twitter_data
from bot.sandbox import x as x_emulator
from conformance import corpus, derive
from conformance.reference import ask, parse_tweets

# (text, our weightedLength, twitter-text's, why ours is right) for any accepted disagreement.
ALLOWED: list[tuple[str, int, int, str]] = []


@pytest.fixture(scope="module")
def data(modules: Path) -> dict[str, Any]:
    answer: dict[str, Any] = ask([{"op": "data"}], modules)[0]
    return answer


def test_the_reference_is_twitter_text_3_1_0(data: dict[str, Any]) -> None:
    assert (data["twitterText"], data["twemojiParser"]) == ("3.1.0", "11.0.2")


def test_the_bots_copy_of_the_data_is_twitter_texts(data: dict[str, Any]) -> None:
    assert data["gTLDs"] == twitter_data._GTLDS
    assert data["ccTLDs"] == twitter_data._CCTLDS
    assert derive.ascii_regex(data["emoji"]) == twitter_data._TWEMOJI_SOURCE


def test_the_x_emulators_copy_of_the_data_is_twitter_texts(data: dict[str, Any]) -> None:
    assert data["gTLDs"] == x_emulator._GTLDS
    assert data["ccTLDs"] == x_emulator._CCTLDS
    assert derive.ascii_regex(data["emoji"]) == x_emulator._TWEMOJI_SOURCE
    assert derive.ascii_regex(data["extractUrl"]) == x_emulator._EXTRACT_URL_SOURCE
    assert derive.ascii_regex(data["validAsciiDomain"]) == x_emulator._VALID_ASCII_DOMAIN_SOURCE


CLASSES = {
    "urlPreceding": lengths._URL_PRECEDING,
    "domainChar": lengths._DOMAIN_CHAR,
    "pathChar": lengths._PATH_CHAR,
    "pathEnd": lengths._PATH_END_CHAR,
    "queryChar": lengths._QUERY_CHAR,
    "queryEnd": lengths._QUERY_END_CHAR,
    "asciiDomainChar": lengths._ASCII_LABEL_CHAR,
    "invalid": f"[{lengths._INVALID_CHARS}]",
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_character_class_matches_what_twitter_texts_does(name: str, modules: Path) -> None:
    theirs = set(ask([{"op": "class", "name": name}], modules)[0])
    pattern = re.compile(CLASSES[name])
    ours = {unit for unit in range(0x10000) if pattern.fullmatch(chr(unit))}
    assert sorted(ours - theirs) == []
    assert sorted(theirs - ours) == []


def test_top_level_domains_match_in_the_cases_javascript_matches(modules: Path) -> None:
    theirs: dict[str, str] = ask([{"op": "tldCase"}], modules)[0]
    ours = {char: "".join(sorted(lengths._tld_cases(char))) for char in theirs}
    assert ours == {char: "".join(sorted(cases)) for char, cases in theirs.items()}


def test_the_fast_suites_expected_values_are_still_twitter_texts(modules: Path) -> None:
    answers = parse_tweets([text for text, _, _ in TWITTER_TEXT_CASES], modules)
    changed = [
        (text, (expected, valid), answer)
        for (text, expected, valid), answer in zip(TWITTER_TEXT_CASES, answers, strict=True)
        if (expected, valid) != answer
    ]
    assert changed == []


def _ours(text: str) -> tuple[int, bool]:
    length = lengths.weighted_length(text)
    return length, 0 < length <= lengths.X_LIMIT and not lengths.x_refused_characters(text)


def _emulators(text: str) -> tuple[int, bool]:
    length, accepted = x_emulator._parse_tweet(text)
    return length, 0 < length <= x_emulator.MAX_TWEET_LENGTH and accepted


def _compare(
    name: str, count: Any, texts: list[tuple[str, str]], truth: list[tuple[int, bool]]
) -> dict[str, Any]:
    agree = 0
    fits_but_too_long = too_long_but_fits = 0
    by_generator: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    allowed = {(text, ours, theirs) for text, ours, theirs, _ in ALLOWED}
    for (generator, text), (weight, valid) in zip(texts, truth, strict=True):
        length, fits = count(text)
        if (length, fits) == (weight, valid) or (text, length, weight) in allowed:
            agree += 1
            continue
        by_generator[generator] += 1
        fits_but_too_long += fits and not valid
        too_long_but_fits += valid and not fits
        if len(examples) < 10:
            examples.append({"text": text, "ours": [length, fits], "twitter-text": [weight, valid]})
    return {
        "counter": name,
        "texts": len(texts),
        "agree": agree,
        "agreement_percent": round(100 * agree / len(texts), 3),
        "fits_but_twitter_text_says_too_long": fits_but_too_long,
        "too_long_but_twitter_text_says_fits": too_long_but_fits,
        "disagreements_by_generator": dict(by_generator),
        "examples": examples,
    }


def test_the_counters_agree_with_twitter_text_on_the_generated_corpus(
    modules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = corpus.corpus()
    started = time.perf_counter()
    truth = parse_tweets([text for _, text in texts], modules)
    asked = time.perf_counter() - started
    results = [
        _compare("bot.decide.lengths.weighted_length", _ours, texts, truth),
        _compare("bot.sandbox.x (X emulator)", _emulators, texts, truth),
    ]
    generators = Counter(generator for generator, _ in texts)
    with capsys.disabled():
        print(
            f"\n[conformance] {len(texts):,} texts (seed {corpus.SEED}), twitter-text {asked:.1f} s"
        )
        print("[conformance] generators: " + ", ".join(f"{g} {n}" for g, n in generators.items()))
        for result in results:
            print(
                f"[conformance] {result['counter']}: {result['agree']:,}/{result['texts']:,} "
                f"agree ({result['agreement_percent']}%); says fits where twitter-text says "
                f"too long: {result['fits_but_twitter_text_says_too_long']}; says too long "
                f"where it fits: {result['too_long_but_twitter_text_says_fits']}; allowed: "
                f"{len(ALLOWED)}"
            )
            for example in result["examples"]:
                print(f"[conformance]   {json.dumps(example, ensure_ascii=True)}")
        summary = {"seed": corpus.SEED, "allowed": len(ALLOWED), "results": results}
        print(json.dumps(summary, ensure_ascii=True))
    if report := os.environ.get("EARSHOT_CONFORMANCE_REPORT"):  # the lane prints it last
        Path(report).write_text(json.dumps(summary, ensure_ascii=True) + "\n")
    for result in results:
        assert result["agree"] == result["texts"], result["examples"]
