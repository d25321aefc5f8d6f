"""One large Kintell sessions export with exactly as many bad and repeated rows as asked: for the
benchmarks and the tests of the loader. (Every source at once, messy or clean: `generate_exports`.)

The same arguments always write the same bytes. Rows are written as they are made, so a file of a
million rows needs no more memory than one of ten.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.registry import KINTELL_SESSIONS
from teei.devtools.generate.kintell import SESSION_COLUMNS, SESSION_FAULTS, SESSIONS, hold_session, kintell_session
from teei.devtools.generate.people import Population
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.writer import ExportWriter

KINTELL_SESSION_HEADERS = tuple(header for _, header in SESSION_COLUMNS)
# Exact repeats are drawn from the most recent good rows: bounded memory.
RECENT_ROWS = 200


def write_kintell_sessions(
    path: Path,
    *,
    rows: int,
    seed: int,
    bad_rows: int = 0,
    duplicate_rows: int = 0,
    start: date | None = None,
) -> None:
    """Write a clean Kintell sessions export: `rows` good sessions, plus `bad_rows` broken ones and
    `duplicate_rows` exact repeats of earlier good rows, scattered among them.

    So the file holds `rows + bad_rows + duplicate_rows` data rows, and loading it gives `rows`
    loaded, `bad_rows` quarantined (each broken in one way, see `SESSION_FAULTS`) and
    `duplicate_rows` duplicates. About six sessions per participant and fifteen per volunteer,
    spread over the 30 days from `start` (default 2026-10-01), Oslo wall-clock times written in UTC.
    """
    if duplicate_rows and not rows:
        raise ValueError("duplicate_rows needs at least one good row to repeat")
    dice = Dice(seed)
    people = Population(seed, participants=max(1, rows // 6), volunteers=max(1, rows // 15), companies=4)
    first_day = datetime.combine(start or date(2026, 10, 1), datetime.min.time())
    total = rows + bad_rows + duplicate_rows
    # Specials never come first, so every repeat has an earlier good row to repeat.
    specials: list[int] = []
    chosen: set[int] = set()
    while len(specials) < bad_rows + duplicate_rows:
        position = 1 + dice.below(total - 1)
        if position not in chosen:
            chosen.add(position)
            specials.append(position)
    bad_at, duplicate_at = set(specials[:bad_rows]), set(specials[bad_rows:])
    recent: deque[list[str]] = deque(maxlen=RECENT_ROWS)
    writer = ExportWriter(path.parent, path.name, KINTELL_SESSIONS, SESSIONS.clean)
    random, participants = dice.random, people.participants
    breakages = 0
    for position in range(total):
        if position in duplicate_at:
            writer.add_copy(dice.pick(recent))
            continue
        # Any day of the 30, 06:00 to 18:45 on the quarter hour.
        slot = int(random() * 30 * 13 * 4)
        scheduled = first_day + timedelta(days=slot // 52, hours=6 + slot % 52 // 4, minutes=15 * (slot % 4))
        session_id = f"ks-{seed}-{position + 1:07d}"
        session = kintell_session(dice, people, session_id, int(random() * participants), scheduled, 0)
        if position in bad_at:
            writer.add_bad(hold_session(dice, session), SESSION_FAULTS[breakages % len(SESSION_FAULTS)])
            breakages += 1
        else:
            recent.append(writer.add(hold_session(dice, session) if random() < 0.8 else session))
    writer.close()
