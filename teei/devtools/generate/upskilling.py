"""Upskilling: course progress at eCornell and itslearning (each in its own columns), and credentials."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.registry import UPSKILLING_CREDENTIALS, UPSKILLING_ECORNELL, UPSKILLING_ITSLEARNING
from teei.devtools.generate.faults import BAD_DATE, Fault, Record, empty
from teei.devtools.generate.people import Population
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.run import EXPORTED_AT, Run
from teei.devtools.generate.timestamps import DOTTED, ISO_DATE, MIXED
from teei.devtools.generate.writer import EntityExport, Style, carried_name, cohort, columns, record_fields

ECORNELL_COURSES = (
    ("CEHR501", "Human Resources Essentials"),
    ("CEPM210", "Project Leadership"),
    ("CEDA150", "Data Analytics Essentials"),
    ("CELD120", "Leading Teams"),
    ("CEMK130", "Digital Marketing Strategy"),
    ("CEFN140", "Financial Management"),
    ("CECS110", "Customer Experience"),
    ("CEWR105", "Business Writing"),
)
# Norwegian course names with æøå and an en dash: all in Windows-1252.
ITSLEARNING_COURSES = (
    ("NOR-A2", "Norsk A2 – muntlig"),
    ("NOR-B1", "Norsk B1 for arbeidslivet"),
    ("SAMF-101", "Samfunnskunnskap for nyankomne"),
    ("HMS-40", "HMS og arbeidsmiljø"),
    ("OKO-10", "Privatøkonomi og skatt i Norge"),
    ("DIGI-01", "Grunnleggende digitale ferdigheter"),
    ("HEL-110", "Helsefag – introduksjon"),
    ("TRK-T1", "Truckførerkurs T1–T4"),
    ("BHG-01", "Barnehageassistent – grunnkurs"),
)
COURSES = tuple(("ecornell", code, name) for code, name in ECORNELL_COURSES) + tuple(
    ("itslearning", code, name) for code, name in ITSLEARNING_COURSES
)
VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


PROGRESS_FIELDS = record_fields(UPSKILLING_ECORNELL)  # the provider is the mapping's constant
CREDENTIAL_FIELDS = record_fields(UPSKILLING_CREDENTIALS)
# The two course providers' own column names (their files carry no provider column).
ECORNELL_HEADERS = (
    "Learner Email, Course Code, Course Title, Enrollment Status, Percent Complete, Start Date, Completion Date,"
    " Final Grade, Certificate ID"
)
ITSLEARNING_HEADERS = (
    "User e-mail, CourseCode, Course name, Status, Progress (%), Enrolled date, Completed date, Score, Credential"
)


def _revise_progress(record: Record) -> Record:
    if record["status"] == "completed":
        score = record["final_score"]
        return {**record, "final_score": score - 2 if score > 90 else score + 2}
    progress = record["progress_percent"]
    return {**record, "status": "in_progress", "progress_percent": min(99, progress + 5)}


ECORNELL = EntityExport(
    UPSKILLING_ECORNELL,
    clean=Style(columns(PROGRESS_FIELDS, ECORNELL_HEADERS), reading=ISO_DATE),
    messy={
        "upskilling/ecornell_2026-10.csv": Style(
            columns(PROGRESS_FIELDS, ECORNELL_HEADERS),
            encoding="utf-8-sig",
            line_end="\r\n",
            reading=MIXED,
            extras={"Learner Name": carried_name, "Cohort": cohort("started_at")},
        ),
    },
    faults=(
        Fault("score out of range", "final_score", "104"),
        Fault("ends before it starts", "completed_at", before="started_at"),
        Fault("unknown value", "status", "Audit"),
        Fault("invalid email", "user_email", "olena.kovalenko@example"),
    ),
    revise=_revise_progress,
)
ITSLEARNING = EntityExport(
    UPSKILLING_ITSLEARNING,
    clean=Style(columns(PROGRESS_FIELDS, ITSLEARNING_HEADERS), reading=DOTTED),
    messy={
        # A Norwegian spreadsheet's export: Windows-1252, semicolons, CRLF, decimal commas.
        "upskilling/itslearning_2026-10.csv": Style(
            columns(PROGRESS_FIELDS, ITSLEARNING_HEADERS),
            encoding="cp1252",
            delimiter=";",
            line_end="\r\n",
            reading=DOTTED,
            decimal_comma=True,
        ),
    },
    faults=(
        Fault("score out of range", "final_score", "112,5"),
        empty("course_id"),
        Fault("unknown value", "status", "Venteliste"),
        Fault("unparseable date", "completed_at", BAD_DATE),
    ),
    revise=_revise_progress,
)
CREDENTIALS = EntityExport(
    UPSKILLING_CREDENTIALS,
    clean=Style(
        columns(
            CREDENTIAL_FIELDS,
            "Credential ID, User Email, Provider, Course ID, Credential Type, Issued At, Expires At, URL,"
            " Verification Code",
        ),
        reading=ISO_DATE,
    ),
    messy={
        "upskilling/credentials_2026-10.csv": Style(
            columns(
                CREDENTIAL_FIELDS,
                "Credential ID, Holder Email, Issuer, Course, Type, Date Issued, Valid Until, Verification URL,"
                " Verify Code",
            ),
            reading=MIXED,
        ),
    },
    faults=(
        Fault("ends before it starts", "expires_at", before="issued_at"),
        Fault("unknown value", "credential_type", "Sticker"),
        empty("issued_at"),
    ),
    revise=lambda r: {**r, "verification_code": r["verification_code"][::-1] + "X"},
)
EXPORTS = (ECORNELL, ITSLEARNING, CREDENTIALS)


COURSES_FROM = datetime(2026, 2, 2, 9, 0)
"""The first course enrolments."""


def _enrolment(dice: Dice, people: Population, participant: int, course: tuple[str, str, str]) -> Record:
    provider, code, name = course
    started = COURSES_FROM + timedelta(days=dice.below(260), hours=dice.between(0, 9), minutes=dice.below(60))
    draw = dice.random()
    status = "completed" if draw < 0.4 else "in_progress" if draw < 0.75 else "enrolled" if draw < 0.9 else "dropped"
    completed = None
    if status == "completed":
        completed = started + timedelta(days=dice.between(14, 120), hours=dice.between(0, 5))
        if completed > EXPORTED_AT:
            status, completed = "in_progress", None
    if status in ("completed", "enrolled"):
        progress = 100 if status == "completed" else 0
    else:
        progress = dice.between(5, 95 if status == "in_progress" else 60)
    score: float | None = None
    if status == "completed":
        # eCornell grades in whole points; itslearning scores in half points (a decimal comma in Norway).
        score = dice.between(60, 100) if provider == "ecornell" else dice.between(120, 200) / 2
    return {
        "provider": provider,
        "user_email": people.participant_email(participant),
        "course_id": code,
        "course_name": name,
        "status": status,
        "progress_percent": progress,
        # eCornell has no start date for a course not started; itslearning gives the enrolment date.
        "started_at": None if status == "enrolled" and provider == "ecornell" else started,
        "completed_at": completed,
        "final_score": score,
        "credential_ref": None,
        "_name": people.participant_name(participant),  # not a field: the "Learner Name" extra column
    }


def _credential(run: Run, dice: Dice, enrolment: Record) -> Record:
    number = run.ids.next("credential")
    if enrolment["provider"] == "ecornell":
        credential_id = f"ECC-{number:07d}"
        kind = "certificate" if dice.chance(0.9) else "transcript"
        url = f"https://certificates.ecornell.example/verify/{credential_id}"
    else:
        credential_id = f"ITS-{number:07d}"
        kind = "badge" if dice.chance(0.7) else "diploma"
        url = f"https://badges.itslearning.example/b/{credential_id}"
    issued: datetime = enrolment["completed_at"] + timedelta(days=dice.between(0, 2))
    return {
        "credential_id": credential_id,
        "user_email": enrolment["user_email"],
        "provider": enrolment["provider"],
        "course_id": enrolment["course_id"],
        "credential_type": kind,
        "issued_at": issued,
        "expires_at": issued + timedelta(days=3 * 365) if kind == "badge" else None,
        "url": url,
        "verification_code": "".join(dice.pick(VERIFICATION_ALPHABET) for _ in range(8)),
    }


def write(run: Run) -> None:
    """Course progress at both providers, and the credentials earned."""
    people, dice = run.people, run.dice
    writers = {export.spec.entity: run.open(export) for export in EXPORTS}

    def completed_enrolment(bad: Dice, provider: str) -> Record:
        course = bad.pick([course for course in COURSES if course[0] == provider])
        enrolment = _enrolment(bad, people, bad.below(people.participants), course)
        started = enrolment["started_at"] or COURSES_FROM
        completed = started + timedelta(days=30)
        return {**enrolment, "status": "completed", "progress_percent": 100, "started_at": started,
                "completed_at": completed, "final_score": 80}  # fmt: skip

    writers["ecornell"].fresh = lambda bad: completed_enrolment(bad, "ecornell")
    writers["itslearning"].fresh = lambda bad: completed_enrolment(bad, "itslearning")
    writers["credentials"].fresh = lambda bad: _credential(
        run, bad, completed_enrolment(bad, bad.pick(("ecornell", "itslearning")))
    )
    for participant in range(people.participants):
        if not people.takes_courses(participant):
            continue
        for course in dice.some(COURSES, dice.pick((1, 1, 1, 2, 2, 3))):
            enrolment = _enrolment(dice, people, participant, course)
            credential = None
            if enrolment["status"] == "completed" and dice.chance(0.9):
                credential = _credential(run, dice, enrolment)
                enrolment["credential_ref"] = credential["credential_id"]
            writers[enrolment["provider"]].add(enrolment)
            if credential is not None:
                writers["credentials"].add(credential)
    for writer in writers.values():
        writer.close()
