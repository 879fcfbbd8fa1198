"""The search vocabulary a deployment edits: synonyms on top of the shipped list (catalog/vocabulary.py).

A tenant's entry replaces the shipped alternatives of its term; an entry with no alternatives switches
the shipped one off; deleting the entry brings the shipped one back. Every search reads the current
entries, so a change applies to the next customer question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mostrador.catalog.search import forget_synonyms
from mostrador.catalog.vocabulary import MAX_ALTERNATIVES, MAX_TERM_WORDS, SHIPPED_SYNONYMS, phrase_key
from mostrador.db import operations_repository as ops_repo
from mostrador.db import search_repository as repo
from mostrador.operations.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal


def list_synonyms(conn: Connection, tenant_id: str) -> dict[str, Any]:
    """Every term in effect (shipped, or the tenant's own), and the shipped ones the tenant switched off."""
    own = {phrase_key(r["term"]): r for r in repo.tenant_synonyms(conn, tenant_id)}
    entries: list[dict[str, Any]] = []
    for term in sorted(set(SHIPPED_SYNONYMS) | set(own)):
        row = own.get(term)
        if row is None:
            entries.append({"term": term, "alternatives": SHIPPED_SYNONYMS[term], "source": "shipped"})
        else:
            entries.append(
                {
                    "term": term,
                    "alternatives": list(row["alternatives"]),
                    "source": "tenant",
                    "disabled": not row["alternatives"],
                    "shippedAlternatives": SHIPPED_SYNONYMS.get(term),
                    "updatedAt": row["updated_at"].isoformat(),
                }
            )
    return {"synonyms": entries, "total": len(entries)}


def set_synonym(
    conn: Connection, tenant_id: str, term: str, alternatives: list[str], principal: Principal
) -> dict[str, Any]:
    key = _term(term)
    cleaned: list[str] = []
    for alternative in alternatives:
        value = phrase_key(alternative)
        if not value:
            raise BadRequest(f"alternative {alternative!r} has no letters or digits")
        if len(value.split()) > MAX_TERM_WORDS + 1:
            raise BadRequest(f"alternative {alternative!r} has more than {MAX_TERM_WORDS + 1} words")
        if value != key and value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_ALTERNATIVES:
        raise BadRequest(f"at most {MAX_ALTERNATIVES} alternatives per term")
    with conn.transaction():
        repo.set_synonym(conn, tenant_id, key, cleaned)
        ops_repo.record_operator_action(
            conn,
            tenant_id,
            action="set_synonym",
            actor=principal.subject,
            role=principal.role,
            detail={"term": key, "alternatives": cleaned},
        )
    forget_synonyms(tenant_id)
    return {"term": key, "alternatives": cleaned, "source": "tenant", "disabled": not cleaned}


def delete_synonym(conn: Connection, tenant_id: str, term: str, principal: Principal) -> dict[str, Any]:
    key = _term(term)
    with conn.transaction():
        if not repo.delete_synonym(conn, tenant_id, key):
            raise NotFound(f"this deployment has no own entry for {key!r}")
        ops_repo.record_operator_action(
            conn, tenant_id, action="delete_synonym", actor=principal.subject, role=principal.role, detail={"term": key}
        )
    forget_synonyms(tenant_id)
    shipped = SHIPPED_SYNONYMS.get(key)
    return {"term": key, "alternatives": shipped or [], "source": "shipped" if shipped else None}


def _term(term: str) -> str:
    key = phrase_key(term)
    if not key:
        raise BadRequest("the term needs letters or digits")
    if len(key.split()) > MAX_TERM_WORDS:
        raise BadRequest(f"a term has at most {MAX_TERM_WORDS} words (stop words aside)")
    return key
