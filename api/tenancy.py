"""Who may see whom: the API's one set of tenancy rules, used by every router that reads people or companies.

- An admin sees everyone and every company; identities (email, name) only on request.
- A company user sees the people of their company (`core.company_users`: its rostered volunteers and
  the participants who worked with one of them) and its metrics; only their own company's
  memberships, never another company's, never a linked id, an email or a name.
- A participant sees only themself, and no company's metrics.

Anything outside the caller's tenancy answers 404, exactly like an id that does not exist, so ids
cannot be probed (`outside_tenancy`).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from api.auth import Caller


def outside_tenancy(detail: str) -> HTTPException:
    """The answer to anything the caller may not see: a 404 worded like a missing thing."""
    return HTTPException(status_code=404, detail=detail)


def visible_people(caller: Caller, alias: str = "u") -> tuple[str, dict[str, Any]]:
    """A SQL condition on `core.users <alias>` that holds for the people `caller` may see, and its parameters.

    Three conditions in all (one per role), so a statement built around one can be cached."""
    if caller.role == "admin":
        return "true", {}
    if caller.role == "company_user":
        return (
            f"{alias}.user_id IN (SELECT user_id FROM core.company_users WHERE company_id = :scope_company)",
            {"scope_company": caller.company_id},
        )
    return f"{alias}.user_id = :scope_user", {"scope_user": caller.user_id}


def memberships_shown(caller: Caller) -> str | None:
    """The one company whose memberships a profile may list for `caller`; None: all of them."""
    return caller.company_id if caller.role == "company_user" else None


def shows_linked_ids(caller: Caller) -> bool:
    """Ids in other systems identify a person outside the platform: not for company users."""
    return caller.role != "company_user"


def shows_identity(caller: Caller, asked: bool) -> bool:
    """Email and name: an admin who asks for them, nobody else."""
    return caller.is_admin and asked


def require_people_of_company(caller: Caller, company_id: str | None) -> None:
    """A listing filtered by `company_id`: a company user may name only their own company."""
    if caller.role == "company_user" and company_id is not None and company_id != caller.company_id:
        raise outside_tenancy(f"no company {company_id}")


def require_company_metrics(caller: Caller, company_id: str) -> None:
    """A company's metrics: admins and that company's own users; a participant has none."""
    if not (caller.is_admin or (caller.role == "company_user" and caller.company_id == company_id)):
        raise outside_tenancy(f"no company {company_id}")
