"""Date ranges of the admin API: whole UTC days, both ends included (since=until=2026-11-02 is that day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from mostrador.operations.errors import BadRequest


@dataclass(frozen=True)
class DayRange:
    first_day: date
    last_day: date

    @classmethod
    def of(cls, since: date, until: date, *, max_days: int | None = None) -> DayRange:
        if since > until:
            raise BadRequest(f"since ({since}) must not be after until ({until})")
        days = (until - since).days + 1
        if max_days is not None and days > max_days:
            raise BadRequest(f"the range covers {days} days; ask for at most {max_days} at a time")
        return cls(since, until)

    @property
    def start(self) -> datetime:
        return start_of(self.first_day)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return start_of(self.last_day + timedelta(days=1))


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def optional_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    if since is not None and until is not None and since > until:
        raise BadRequest(f"since ({since}) must not be after until ({until})")
    return (
        start_of(since) if since is not None else None,
        start_of(until + timedelta(days=1)) if until is not None else None,
    )
