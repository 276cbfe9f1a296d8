"""Jurisdiction profiles shipped with the service, one JSON file per province.

The files are data: a province's rules change by editing its file and raising
its ``version``, never by code (``if province == ...`` has no place here).
Admin-added profiles live in the database; these are the seeds.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.profiles.schema import OrgRole, Profile, Rule, Subject

__all__ = ["PROFILE_DIR", "OrgRole", "Profile", "Rule", "Subject", "get_profile", "load_profiles"]

PROFILE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[str, Profile], ...]:
    loaded: dict[str, Profile] = {}
    for path in sorted(PROFILE_DIR.glob("*.json")):
        profile = Profile.model_validate_json(path.read_text(encoding="utf-8"))
        if profile.code != path.stem:
            raise ValueError(f"{path.name} holds profile {profile.code!r}; the file name must match")
        loaded[profile.code] = profile
    return tuple(loaded.items())


def load_profiles() -> dict[str, Profile]:
    """All shipped profiles by code, parsed and validated once per process.

    A fresh dict each call (the profiles themselves are frozen), so a caller
    cannot change what the next caller sees.
    """
    return dict(_load())


def get_profile(code: str) -> Profile | None:
    return dict(_load()).get(code)
