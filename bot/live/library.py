"""The live playbooks: templates by id and language, and the suggester over them.

Leads edit playbook files while the bot runs. ``reload`` reads the folder again and swaps the new
templates in at once; a folder with any problem is refused whole (the old templates stay) and every
problem is reported. ``reload_if_changed`` does the same when a file's time stamp or the set of
files changed, so a saved file is live within one scheduler tick, without a restart.
Every sent reply teaches the suggester (``teach``), and a reload keeps what it learned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config.settings import load_playbooks
from bot.decide.playbooks import Template, missing_translations
from bot.decide.suggest import Sent, Suggester
from bot.problems import Problem, ProblemsError


@dataclass(frozen=True, slots=True)
class Answered:
    """A public reply and the post it answered, as the store remembers it."""

    mention_text: str
    reply_text: str
    template: str  # "" when the agent wrote it freely
    brand: str
    team: str  # the case's channel
    lang: str


History = Callable[[], Iterable[Answered]]


@dataclass(frozen=True, slots=True)
class Reloaded:
    templates: int
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check_playbooks(
    folder: Path, *, brand: str = "", languages: Sequence[str] = ()
) -> tuple[list[Template], list[Problem]]:
    """Everything ``earshot playbooks lint`` and a reload check, in one place."""
    templates, problems = load_playbooks(folder, brand=brand)
    return templates, problems + missing_translations(templates, languages=languages)


class Library:
    def __init__(
        self,
        *,
        folder: Path,
        brand: str,
        languages: Sequence[str] = (),
        top: int = 3,
        min_score: float = 60.0,
        history: History = tuple,
    ) -> None:
        self.folder = folder
        self._brand = brand
        self._languages = tuple(languages)
        self._top, self._min_score = top, min_score
        self._history = history
        self._lock = threading.Lock()
        self._stamp = self._fingerprint()
        templates, problems = check_playbooks(folder, brand=brand, languages=self._languages)
        if problems:
            raise ProblemsError(problems)
        self._install(templates)

    # ---- reading -----------------------------------------------------------------------------

    @property
    def suggester(self) -> Suggester:
        return self._state[0]

    @property
    def templates(self) -> tuple[Template, ...]:
        return self._state[0].templates

    def get(self, template_id: str | None, lang: str = "") -> Template | None:
        """The template with this id, in the mention's language when it is translated."""
        found = self._state[1].get(template_id or "", ())
        for wanted in (lang, "", *(t.lang for t in found)):
            for template in found:
                if template.lang == wanted:
                    return template
        return None

    def choices(self, lang: str = "") -> tuple[tuple[str, str], ...]:
        """(id, label) once per template id, labelled in ``lang`` where translated."""
        picked = (self.get(template_id, lang) for template_id in self._state[1])
        return tuple((t.id, t.label) for t in picked if t is not None)

    # ---- changing ----------------------------------------------------------------------------

    def reload(self) -> Reloaded:
        """Read the folder again; swap in its templates only if it has no problem at all."""
        stamp = self._fingerprint()
        templates, problems = check_playbooks(
            self.folder, brand=self._brand, languages=self._languages
        )
        with self._lock:
            self._stamp = stamp  # a broken file is reported once, not on every tick
            if problems:
                return Reloaded(len(self.templates), tuple(problems))
            self._install(templates)
        return Reloaded(len(templates))

    def reload_if_changed(self) -> Reloaded | None:
        """Reload when a playbook file was added, removed or saved since the last look."""
        if self._fingerprint() == self._stamp:
            return None
        return self.reload()

    def teach(self, answered: Answered) -> None:
        """One more reply agents sent: it ranks its template higher for posts like this."""
        suggester = self._state[0]
        if (sent := _sent(suggester, answered)) is not None:
            suggester.learn(sent)

    def _install(self, templates: Sequence[Template]) -> None:
        by_id: dict[str, list[Template]] = {}
        for template in templates:
            by_id.setdefault(template.id, []).append(template)
        suggester = Suggester.build(templates, top=self._top, min_score=self._min_score)
        for answered in self._history():
            if (sent := _sent(suggester, answered)) is not None:
                suggester.learn(sent)
        # one assignment: a reader never sees the new suggester with the old ids
        self._state = (suggester, {key: tuple(found) for key, found in by_id.items()})

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        try:
            files = sorted(self.folder.glob("*.toml"))
            return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        except OSError:
            return ()


def _sent(suggester: Suggester, answered: Answered) -> Sent | None:
    """What a reply teaches: its template, or the template a freely typed reply matches."""
    template_id = answered.template
    if not template_id:
        found = suggester.attribute(answered.reply_text, brand=answered.brand, lang=answered.lang)
        template_id = found.id if found else ""
    if not template_id:
        return None
    return Sent(
        text=answered.mention_text,
        template_id=template_id,
        brand=answered.brand,
        team=answered.team,
        lang=answered.lang,
    )


def playbook_problems_text(problems: Sequence[Problem], *, kept: int) -> str:
    """What a lead reads when a changed playbook cannot be used: every problem, with its fix."""
    lines = [f"• {p}" for p in problems[:30]]
    if len(problems) > 30:
        lines.append(f"…and {len(problems) - 30} more (run `earshot playbooks lint`)")
    head = f"⚠️ The playbooks were not reloaded; the {kept} templates in use stay. Fix:"
    return "\n".join([head, *lines])
