"""Language detection: Earshot's detector against the PyPI candidates, on invented posts and twcs.

    python bench/eval_language.py [--show N]

Prints, per detector: accuracy on the labelled set below (invented for this bench: short care-style
posts in en, es, fr, de, pt, it, ko, ja, zh and tricky short, emoji- and handle-heavy ones), import
time, first-call time (model load), median per-call latency, installed size, and, on
../shared/data/twcs_mentions.jsonl (no labels; read at run time, never copied), the language mix
and how often each candidate disagrees with Earshot. ``--show N`` prints N disagreements per
candidate for eyeballing.

Candidates that are not installed are skipped. They are not Earshot dependencies; to rerun the
comparison, install them into a scratch venv together with earshot (``pip install -e .``):
``pip install py3langid lingua-language-detector langdetect``.

Every candidate sees the same input: handles, links and entities removed; no letters means "und".
"Hybrid" rows add Earshot's script shortcut (Hangul, kana, Han, Cyrillic... decided by script), so
the library only ever judges Latin-script text. "import" and "cold" (import + model load + first
call) are measured in a fresh interpreter; "median" is per call on the labelled set, "twcs med" on
twcs; "size" is the installed size of the library and its dependencies (numpy for py3langid).

Decision (v0.2): Earshot uses the script shortcut, then py3langid restricted to en/es/fr/de/pt/it,
and falls back to "en" when py3langid's normalised confidence is below 0.5 (one-word replies).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decide.triage import CARE_LANGUAGES, detect_language, script_language

TWCS = ROOT.parent / "shared" / "data" / "twcs_mentions.jsonl"
LATIN = ("en", "es", "fr", "de", "pt", "it", "nl")
WITH_SCRIPTS = (*LATIN, "ko", "ja", "zh", "ru", "ar", "th")

# (expected language, invented text). "und": nothing to go on.
SAMPLES: tuple[tuple[str, str], ...] = (
    ("en", "@SkylarkAir my bag never showed up at baggage claim"),
    ("en", "still waiting on that refund you promised last week"),
    ("en", "Why is the app logging me out every five minutes?"),
    ("en", "thanks, sorted now"),
    ("en", "Flight SK204 delayed again. Third time this month."),
    ("en", "can I change my seat online or do I have to call?"),
    ("en", "The crew on my flight today were lovely, thank you"),
    ("en", "hold music for 45 minutes and then the line went dead"),
    ("en", "Is the lounge at gate B open this early?"),
    ("en", "charged twice for the same ticket, please fix"),
    ("en", "How do I get a receipt for my upgrade?"),
    ("en", "your website keeps crashing at checkout"),
    ("en", "Love the new app update!"),
    ("en", "no one at the desk in T2, been here an hour"),
    ("en", "DM sent"),
    ("es", "Mi maleta no llegó y nadie me contesta"),
    ("es", "¿Cuándo me devuelven el dinero del vuelo cancelado?"),
    ("es", "Llevo dos horas esperando en el aeropuerto"),
    ("es", "Gracias por la ayuda, todo resuelto"),
    ("es", "El vuelo salió con tres horas de retraso, un desastre"),
    ("es", "¿Puedo llevar a mi perro en cabina?"),
    ("es", "Nadie atiende el teléfono de atención al cliente"),
    ("es", "Me cobraron dos veces el mismo billete"),
    ("es", "Excelente servicio, muy amables"),
    ("es", "¿Hay wifi en el avión?"),
    ("es", "Perdieron mi equipaje otra vez"),
    ("es", "La aplicación no funciona desde ayer"),
    ("fr", "Mon vol a été annulé et personne ne répond"),
    ("fr", "Toujours pas de remboursement après un mois"),
    ("fr", "Merci beaucoup pour votre aide rapide"),
    ("fr", "Où puis-je récupérer mes bagages ?"),
    ("fr", "Trois heures d'attente au guichet, c'est inadmissible"),
    ("fr", "Est-ce que le vol de demain est maintenu ?"),
    ("fr", "Ma valise est arrivée cassée"),
    ("fr", "Le personnel était très gentil, bravo"),
    ("fr", "Impossible de me connecter à mon compte"),
    ("fr", "J'attends toujours une réponse à mon courriel"),
    ("fr", "Vous avez perdu mon sac, encore une fois"),
    ("fr", "Quel est le poids maximum pour un bagage cabine ?"),
    ("de", "Mein Flug hat schon wieder Verspätung"),
    ("de", "Wann bekomme ich endlich mein Geld zurück?"),
    ("de", "Vielen Dank für die schnelle Hilfe!"),
    ("de", "Der Koffer ist nicht angekommen"),
    ("de", "Seit zwei Stunden in der Warteschleife"),
    ("de", "Kann ich meinen Sitzplatz noch ändern?"),
    ("de", "Die App stürzt ständig ab"),
    ("de", "Super freundliche Crew, gerne wieder"),
    ("de", "Niemand antwortet auf meine E-Mails"),
    ("de", "Warum wurde mein Flug gestrichen?"),
    ("de", "Ich wurde doppelt belastet"),
    ("de", "Gibt es am Flughafen eine Lounge?"),
    ("pt", "Minha mala não chegou e ninguém responde"),
    ("pt", "Quando vou receber o reembolso?"),
    ("pt", "Obrigado pela ajuda, deu tudo certo"),
    ("pt", "O voo atrasou quatro horas e ninguém explicou nada"),
    ("pt", "Posso levar bagagem de mão extra?"),
    ("pt", "O aplicativo não abre desde ontem"),
    ("pt", "Atendimento péssimo, nunca mais"),
    ("pt", "Fui cobrado duas vezes pela mesma passagem"),
    ("pt", "Adorei o serviço de bordo, parabéns"),
    ("pt", "Estou esperando há três dias uma resposta"),
    ("pt", "Vocês cancelaram meu voo sem avisar"),
    ("pt", "Qual é o horário do check-in?"),
    ("it", "Il mio volo è stato cancellato e nessuno risponde"),
    ("it", "Quando arriva il rimborso?"),
    ("it", "Grazie mille per l'aiuto"),
    ("it", "La mia valigia non è ancora arrivata"),
    ("it", "Due ore di attesa al telefono, vergognoso"),
    ("it", "Posso cambiare il posto a sedere?"),
    ("it", "Personale gentilissimo, complimenti"),
    ("it", "L'app non funziona da stamattina"),
    ("it", "Mi avete addebitato due volte"),
    ("it", "Il volo è in ritardo di tre ore"),
    ("it", "C'è il wifi a bordo?"),
    ("it", "Ho perso la coincidenza per colpa vostra"),
    ("ko", "수하물이 아직 안 나왔어요"),
    ("ko", "환불은 언제 처리되나요?"),
    ("ko", "정말 친절하게 도와주셔서 감사합니다"),
    ("ko", "앱이 계속 오류가 나요"),
    ("ko", "비행기가 세 시간째 지연 중입니다"),
    ("ko", "좌석 변경 가능한가요?"),
    ("ko", "@SkylarkAir 고객센터 연결이 안 돼요 ㅠㅠ"),
    ("ko", "ㅋㅋㅋ 또 지연이네"),
    ("ko", "SK204 편 게이트가 바뀌었나요?"),
    ("ja", "荷物がまだ届いていません"),
    ("ja", "返金はいつになりますか？"),
    ("ja", "丁寧に対応していただきありがとうございました"),
    ("ja", "アプリにログインできません"),
    ("ja", "フライトが3時間遅れています"),
    ("ja", "座席の変更はできますか"),
    ("ja", "電話が全然つながらない"),
    ("ja", "@SkylarkAir 予約番号を送りました"),
    ("ja", "羽田空港国際線出発"),
    ("zh", "我的航班被取消了，没有人通知我"),
    ("zh", "退款什么时候到账？"),
    ("zh", "谢谢你们的帮助"),
    ("zh", "行李到现在还没到"),
    ("zh", "客服电话一直打不通"),
    ("zh", "可以改签吗？"),
    ("zh", "飞机延误了三个小时"),
    ("zh", "服务态度太差了"),
    # tricky: very short, emoji, handles, links, hashtags, flight codes
    ("und", "@SkylarkAir @SkylarkHelp 👍"),
    ("und", "@SkylarkAir 👀"),
    ("und", "https://t.co/a1b2c3"),
    ("und", "12:45 → 16:30 😤😤"),
    ("und", "!!!???"),
    ("en", "ok thx 👍"),
    ("en", "@SkylarkAir @SkylarkHelp where is my bag 😡 https://t.co/x1y2"),
    ("en", "#neveragain @SkylarkAir worst airline"),
    ("en", "thank you!!! 🙏🙏"),
    ("es", "gracias!!"),
    ("fr", "merci 🙏"),
    ("de", "danke dir 👍"),
    ("pt", "obrigada 🙏"),
    ("it", "grazie ❤️"),
    ("es", "Vuelo SK204 cancelado 😡"),
    ("de", "Flug gestrichen, Koffer weg 😡"),
    ("fr", "vol annulé, merci pour rien 🙄"),
    ("pt", "voo cancelado de novo 😤"),
    ("it", "volo cancellato di nuovo 😤"),
    ("es", "no puedo hacer el check-in online"),
    ("pt", "não consigo fazer o check-in online"),
    ("it", "non riesco a fare il check-in online"),
    ("ja", "ありがとう！"),
    ("ko", "감사합니다!!"),
    ("zh", "谢谢"),
)

_CLEAN = re.compile(r"@\w+|https?://\S+|&\w+;")


def clean(text: str) -> str:
    return " ".join(_CLEAN.sub(" ", text).replace("#", " ").split())


def _no_letters(text: str) -> bool:
    return not any(ch.isalpha() for ch in text)


# ---- the candidates ---------------------------------------------------------------------------

# The v0.1 detector (script + stopwords), copied here so the comparison survives its replacement.
_V01_STOPS = {
    "en": "the and is to my for of it you not your this was have with on are i me",
    "es": "el la de que y en los por no mi para es una con las del se",
    "fr": "le la les de et est pas je mon pour une des que vous un avec",
    "de": "der die und ist nicht ich mein das ein mit für sie auf zu den",
    "pt": "o a de que e não meu para uma com os do da é por",
}
_V01 = {lang: set(words.split()) for lang, words in _V01_STOPS.items()}


def v01_stopwords(text: str) -> str:
    words = [w for w in re.findall(r"[\w']+", text.lower()) if not w.startswith("@")]
    votes = {lang: sum(w in stops for w in words) for lang, stops in _V01.items()}
    best = max(votes.items(), key=lambda kv: (kv[1], kv[0] == "en"))
    return best[0] if best[1] else "en"


def _hybrid(latin: Callable[[str], str]) -> Callable[[str], str]:
    def detect(text: str) -> str:
        cleaned = clean(text)
        return script_language(cleaned) or latin(cleaned)

    return detect


def _alone(library: Callable[[str], str]) -> Callable[[str], str]:
    def detect(text: str) -> str:
        cleaned = clean(text)
        return "und" if _no_letters(cleaned) else library(cleaned)

    return detect


def _py3langid(langs: tuple[str, ...] | None) -> Callable[[str], str]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 (optional)

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if langs:
        identifier.set_languages(list(langs))

    def detect(text: str) -> str:
        return str(identifier.classify(text)[0])

    return detect


def _lingua(langs: tuple[str, ...], *, low: bool) -> Callable[[str], str]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder  # noqa: PLC0415

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in langs]
    builder = LanguageDetectorBuilder.from_languages(*chosen)
    if low:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else "und"

    return detect


def _langdetect() -> Callable[[str], str]:
    from langdetect import DetectorFactory, LangDetectException, detect  # noqa: PLC0415

    DetectorFactory.seed = 0

    def run(text: str) -> str:
        try:
            code = str(detect(text))
        except LangDetectException:
            return "und"
        return code.split("-", maxsplit=1)[0]

    return run


# name, distribution(s) for size, import statement, factory
CANDIDATES: tuple[tuple[str, tuple[str, ...], str, Callable[[], Callable[[str], str]]], ...] = (
    ("earshot v0.1 (script+stopwords)", (), "", lambda: _hybrid(v01_stopwords)),
    (
        "earshot now (script+py3langid 6)",
        ("py3langid", "numpy"),
        "import py3langid",
        lambda: detect_language,
    ),
    (
        "py3langid all 97, alone",
        ("py3langid", "numpy"),
        "import py3langid",
        lambda: _alone(_py3langid(None)),
    ),
    (
        "py3langid subset, alone",
        ("py3langid", "numpy"),
        "import py3langid",
        lambda: _alone(_py3langid(WITH_SCRIPTS)),
    ),
    (
        "py3langid 6 Latin, hybrid",
        ("py3langid", "numpy"),
        "import py3langid",
        lambda: _hybrid(_py3langid(CARE_LANGUAGES)),
    ),
    (
        "py3langid 7 Latin, hybrid",
        ("py3langid", "numpy"),
        "import py3langid",
        lambda: _hybrid(_py3langid(LATIN)),
    ),
    (
        "lingua subset high, alone",
        ("lingua-language-detector",),
        "import lingua",
        lambda: _alone(_lingua(WITH_SCRIPTS, low=False)),
    ),
    (
        "lingua 7 Latin high, hybrid",
        ("lingua-language-detector",),
        "import lingua",
        lambda: _hybrid(_lingua(LATIN, low=False)),
    ),
    (
        "lingua 7 Latin low, hybrid",
        ("lingua-language-detector",),
        "import lingua",
        lambda: _hybrid(_lingua(LATIN, low=True)),
    ),
    (
        "langdetect 55, alone",
        ("langdetect", "six"),
        "import langdetect",
        lambda: _alone(_langdetect()),
    ),
    (
        "langdetect 55, hybrid",
        ("langdetect", "six"),
        "import langdetect",
        lambda: _hybrid(_langdetect()),
    ),
)


# ---- measuring --------------------------------------------------------------------------------


def installed_mb(dists: tuple[str, ...]) -> float:
    total = 0
    for name in dists:
        files = md.distribution(name).files or []
        total += sum(f.locate().stat().st_size for f in files if Path(f.locate()).is_file())
    return total / 1e6


def cold_seconds(statement: str, index: int) -> tuple[float, float]:
    """(import, import + model load + first call) in a fresh interpreter, best of three."""
    imports, loads = [], []
    for _ in range(3):
        out = subprocess.check_output(
            [sys.executable, __file__, "--cold", str(index), "--statement", statement], text=True
        )
        first, second = out.split()
        imports.append(float(first))
        loads.append(float(second))
    return min(imports), min(loads)


def _cold(index: int, statement: str) -> None:
    began = time.perf_counter()
    exec(statement)  # the bare import, e.g. "import py3langid"
    imported = time.perf_counter() - began
    CANDIDATES[index][3]()("warm up the model")
    print(imported, time.perf_counter() - began)


def median_latency_ms(detect: Callable[[str], str], texts: list[str]) -> float:
    timings = []
    for text in texts:
        began = time.perf_counter()
        detect(text)
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1e3


def available(dists: tuple[str, ...]) -> bool:
    try:
        for name in dists:
            md.distribution(name)
    except md.PackageNotFoundError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print N twcs disagreements each")
    parser.add_argument("--cold", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--statement", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold is not None:
        _cold(args.cold, args.statement)
        return
    twcs = []
    if TWCS.exists():
        twcs = [json.loads(line)["text"] for line in TWCS.read_text(encoding="utf-8").splitlines()]
    hard = [(lang, text) for lang, text in SAMPLES[-25:]]
    print(f"labelled: {len(SAMPLES)} invented posts (last {len(hard)} tricky); twcs: {len(twcs)}")
    print(
        f"{'detector':34} {'acc':>6} {'tricky':>6} {'import':>7} {'cold':>7} {'median':>8}"
        f" {'twcs med':>8} {'size':>7} {'≠earshot':>8}"
    )
    reference = [detect_language(t) for t in twcs]
    for index, (name, dists, statement, factory) in enumerate(CANDIDATES):
        if not available(dists):
            print(f"{name:34} (not installed)")
            continue
        imported, load = cold_seconds(statement, index)
        detect = factory()
        right = [detect(text) == lang for lang, text in SAMPLES]
        tricky = right[-len(hard) :]
        pairs = zip(SAMPLES, right, strict=True)
        misses = [(lang, text, detect(text)) for (lang, text), ok in pairs if not ok]
        found = [detect(t) for t in twcs]
        differ = [(t, r, f) for t, r, f in zip(twcs, reference, found, strict=True) if r != f]
        size = installed_mb(dists) if dists else 0.0
        print(
            f"{name:34} {sum(right) / len(right):6.1%} {sum(tricky) / len(tricky):6.1%}"
            f" {imported * 1e3:5.0f}ms {load * 1e3:5.0f}ms"
            f" {median_latency_ms(detect, [t for _, t in SAMPLES]) * 1e3:6.0f}µs"
            f" {median_latency_ms(detect, twcs) * 1e3 if twcs else 0:6.0f}µs"
            f" {size:5.1f}MB {len(differ) / max(1, len(twcs)):8.1%}"
        )
        if misses:
            print("    misses:", "; ".join(f"{t!r} {e}→{g}" for e, t, g in misses))
        print("    twcs mix:", dict(Counter(found).most_common(8)))
        for text, ours, theirs in differ[: args.show]:
            print(f"    earshot {ours} / {theirs}: {text[:100]!r}")


if __name__ == "__main__":
    main()
