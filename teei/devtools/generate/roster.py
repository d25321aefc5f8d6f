"""Rosters: the companies taking part, and which of their employees volunteer."""

from __future__ import annotations

from datetime import timedelta

from connectors.registry import ROSTER_COMPANIES, ROSTER_VOLUNTEERS
from teei.devtools.generate.faults import Fault, Record, empty
from teei.devtools.generate.run import Run
from teei.devtools.generate.timestamps import DOTTED_DATE, ISO_DATE
from teei.devtools.generate.writer import EntityExport, Style, carried_name, columns, record_fields

DEPARTMENTS = ("Finance", "IT", "HR", "Kundeservice", "Drift", "Salg", "Økonomi")
COMPANY_FIELDS = record_fields(ROSTER_COMPANIES)
VOLUNTEER_FIELDS = record_fields(ROSTER_VOLUNTEERS)

COMPANIES = EntityExport(
    ROSTER_COMPANIES,
    clean=Style(columns(COMPANY_FIELDS, "Company Code, Company Name, Industry, Country")),
    messy={
        "roster/companies_2026-10.csv": Style(
            columns(COMPANY_FIELDS, "Org Code, Legal Name, Sector, HQ Country"), encoding="cp1252", line_end="\r\n"
        ),
    },
    faults=(empty("company_name"), empty("company_code")),
    revise=lambda r: {**r, "industry": f"{r['industry']} and services"},
)
VOLUNTEERS = EntityExport(
    ROSTER_VOLUNTEERS,
    clean=Style(columns(VOLUNTEER_FIELDS, "Employee Email, Company Code, Joined At"), reading=ISO_DATE),
    messy={
        "roster/volunteers_2026-10.csv": Style(
            columns(VOLUNTEER_FIELDS, "Work Email, Employer, Since"),
            encoding="utf-8-sig",
            delimiter=";",
            reading=DOTTED_DATE,
            extras={"Full Name": carried_name, "Department": lambda record, dice: dice.pick(DEPARTMENTS)},
        ),
    },
    faults=(
        Fault("invalid email", "employee_email", "ola.nordmann@"),
        empty("company_code"),
    ),
    revise=lambda r: {**r, "joined_at": r["joined_at"] - timedelta(days=7)},
)
EXPORTS = (COMPANIES, VOLUNTEERS)


def write(run: Run) -> None:
    """The taking part companies, and their volunteering employees."""
    people = run.people
    companies = run.open(COMPANIES)
    companies.fresh = lambda bad: {
        "company_code": f"NEW{run.ids.next('company'):02d}",
        "company_name": "Sørlandet Renhold AS",
        "industry": "Cleaning",
        "country": "NO",
    }
    for code, name, _, industry, country in people.company_rows:
        companies.add({"company_code": code, "company_name": name, "industry": industry, "country": country})
    companies.close()

    def volunteer(v: int) -> Record:
        return {
            "employee_email": people.volunteer_email(v),
            "company_code": people.company_rows[people.company(v)][0],
            "joined_at": people.volunteer_joined(v),
            "_name": people.volunteer_name(v),  # not a field: the "Full Name" extra column
        }

    volunteers = run.open(VOLUNTEERS)
    # Broken rows are of new joiners, numbered after the volunteers (so their addresses are new).
    volunteers.fresh = lambda bad: volunteer(people.volunteers + run.ids.next("volunteer"))
    for v in range(people.volunteers):
        volunteers.add(volunteer(v))
    volunteers.close()
