"""/organisations/{id}/designations: which organisation fills each role a profile names, per region.

World (tests/factories.py): hainan (region) ─┬ gov ─┬ env ── env_unit   office_body ── office
                                             │      └ water
                                             └ haikou (region) ── haikou_gov ── haikou_env
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import AuditEvent, Designation, Organisation
from app.profiles.schema import OrgRole
from app.services import designations
from tests.factories import make_organisation, problem

URL = "/organisations/{}/designations"


def by_key(body: dict) -> dict[str, dict]:
    return {i["key"]: i for i in body["items"]}


class TestReadDesignations:
    async def test_a_regions_party_committee_and_government_default_to_its_children(self, client, world):
        r = await client.get(URL.format(world.org("hainan").id), headers=world.headers("admin"))
        assert r.status_code == 200, r.text
        joint = by_key(r.json())["party_committee_and_government"]
        # The world's hainan has a government child and no party committee.
        assert joint["organisation_ids"] == [str(world.org("gov").id)]
        assert joint["by_default"] is True
        assert by_key(r.json())["environment_department"]["organisation_ids"] == []
        assert r.headers["ETag"] == make_etag(world.org("hainan").id, world.org("hainan").version)

    async def test_an_organisation_that_is_not_a_region_is_422(self, client, world):
        r = await client.get(URL.format(world.org("env").id), headers=world.headers("admin"))
        assert problem(r)["errors"][0]["type"] == "not_a_region"

    async def test_out_of_scope_is_404(self, client, world):
        r = await client.get(URL.format(world.org("henan").id), headers=world.headers("admin"))
        assert r.status_code == 404


class TestReplaceDesignations:
    async def _put(self, client, world, region_key: str, items: list, etag: str | None = None):
        region = world.org(region_key)
        headers = {**world.headers("admin"), "If-Match": etag or make_etag(region.id, region.version)}
        return await client.put(URL.format(region.id), headers=headers, json={"items": items})

    async def test_admin_designates_the_environment_department_and_the_resolver_finds_it(
            self, client, world, database):
        r = await self._put(client, world, "hainan", [
            {"key": "environment_department", "organisation_ids": [str(world.org("env").id)]},
            {"key": "inspection_office", "organisation_ids": [str(world.org("office").id)]}])
        assert r.status_code == 200, r.text
        assert by_key(r.json())["environment_department"]["organisation_names"] == ["海南省生态环境厅"]
        assert r.json()["version"] == world.org("hainan").version + 1
        async with database.transaction(write=False) as s:
            found = await designations.resolve(s, world.org("hainan").id, OrgRole.environment_department)
            assert [o.id for o in found] == [world.org("env").id]
            convenor = await designations.resolve(s, world.org("hainan").id, OrgRole.inspection_office)
            assert [o.id for o in convenor] == [world.org("office").id]
            audited = await s.scalar(select(func.count()).where(
                AuditEvent.action == "organisation.designations",
                AuditEvent.resource_id == str(world.org("hainan").id)))
            assert audited == 1

    async def test_an_explicit_row_overrides_the_party_and_government_default(self, client, world, database):
        async with database.transaction() as s:
            hainan = await s.get(Organisation, world.org("hainan").id)
            pc = await make_organisation(s, "中共海南省委", kind="party_committee", parent=hainan)
        r = await self._put(client, world, "hainan", [
            {"key": "party_committee_and_government", "organisation_ids": [str(pc.id), str(world.org("gov").id)]}])
        joint = by_key(r.json())["party_committee_and_government"]
        assert (sorted(joint["organisation_names"]), joint["by_default"]) == (["中共海南省委", "海南省人民政府"], False)

    async def test_a_city_resolves_to_its_own_bodies(self, client, world, database):
        async with database.transaction(write=False) as s:
            region = await designations.region_of(s, world.org("haikou_env").id)
            assert region.id == world.org("haikou").id
            joint = await designations.resolve(s, region.id, OrgRole.same_level_party_committee_and_government)
            assert [o.id for o in joint] == [world.org("haikou_gov").id]

    async def test_an_organisation_outside_the_region_is_422_and_nothing_changes(self, client, world, database):
        r = await self._put(client, world, "haikou", [
            {"key": "environment_department", "organisation_ids": [str(world.org("env").id)]}])
        assert problem(r)["errors"] == [{"pointer": "/items/0/organisation_ids/0", "source": "body",
                                         "type": "unknown_organisation",
                                         "message": "not an active organisation inside this region"}]
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(Designation)) == 0

    async def test_a_stale_etag_is_412_and_a_missing_one_428(self, client, world):
        r = await self._put(client, world, "hainan", [{"key": "inspection_office", "organisation_ids": []}],
                            etag='"0-stale"')
        assert r.status_code == 412
        region = world.org("hainan")
        r = await client.put(URL.format(region.id), headers=world.headers("admin"),
                             json={"items": [{"key": "inspection_office", "organisation_ids": []}]})
        assert r.status_code == 428

    async def test_non_admins_are_403(self, client, world):
        region = world.org("hainan")
        r = await client.put(URL.format(region.id), headers={**world.headers("office"),
                                                             "If-Match": make_etag(region.id, region.version)},
                             json={"items": [{"key": "inspection_office", "organisation_ids": []}]})
        assert r.status_code == 403
