"""Webhook subscriptions, deliveries, the change feed and notifications over HTTP: SSRF refusals,
scope rules, one-time secrets and rotation, feed order and scoping, notifications and the digest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.etag import make_etag
from app.models import AuditEvent, Event, IntegrationClient, WebhookSubscription
from app.services import events, ssrf
from tests.factories import problem
from tests.webhook_helpers import RECEIVER_HOST, assigned_finding, subscribe


@pytest.fixture
async def hook_client(database, world) -> IntegrationClient:
    async with database.transaction() as s:
        row = IntegrationClient(client_id="edc_hooks", name="监测平台", secret_hash="x" * 64,
                                scopes=["organisations:read", "findings:read", "reports:read"],
                                organisation_id=world.org("env").id)
        s.add(row)
    return row


@pytest.fixture
def allow_receiver(monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_allowed_hosts", [RECEIVER_HOST])


@pytest.fixture
def fake_dns(monkeypatch):
    table = {"loopback.example": ["127.0.0.1"], "mixed.example": ["93.184.216.34", "10.1.2.3"],
             "hooks.example.org": ["93.184.216.34"], "v6.example": ["::ffff:127.0.0.1"]}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    monkeypatch.setattr(ssrf, "resolver", resolve)


def _url(client_id) -> str:
    return f"/integration-clients/{client_id}/webhook-subscriptions"


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://10.0.0.5/hook", "https://172.16.3.4/hook", "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/hook", "https://100.64.0.1/hook", "https://224.0.0.1/hook",
    "https://loopback.example/hook", "https://mixed.example/hook", "https://v6.example/hook",
    "https://nowhere.example/hook", "http://hooks.example.org/hook", "ftp://hooks.example.org/hook",
    "https://user:pw@hooks.example.org/hook", "https://hooks.example.org:99999/hook", "file:///etc/passwd",
    "gopher://hooks.example.org/", "https:///nohost", "https://[::]/hook", "https://2130706433/hook",
])
async def test_targets_inside_the_network_or_not_https_are_refused(client, world, database, hook_client,
                                                                   fake_dns, url):
    r = await client.post(_url(hook_client.id), headers=world.headers("admin"),
                          json={"url": url, "event_types": ["finding.assigned"]})
    assert r.status_code == 422, r.text
    assert [e["pointer"] for e in problem(r)["errors"]] == ["/url"]
    async with database.transaction(write=False) as s:
        assert (await s.scalars(select(WebhookSubscription))).all() == []


async def test_a_public_target_is_accepted_and_the_secret_shown_once(client, world, database, hook_client,
                                                                     fake_dns):
    r = await client.post(_url(hook_client.id), headers=world.headers("admin"), json={
        "url": "https://hooks.example.org/in", "event_types": ["finding.closed", "finding.assigned",
                                                               "finding.assigned"], "description": "台账"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["secret"].startswith("whsec_") and r.headers["location"] == f"/webhook-subscriptions/{body['id']}"
    assert body["event_types"] == ["finding.assigned", "finding.closed"]
    got = await client.get(f"/webhook-subscriptions/{body['id']}", headers=world.headers("admin"))
    assert got.status_code == 200 and "secret" not in got.json()
    listed = await client.get(_url(hook_client.id), headers=world.headers("admin"))
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    async with database.transaction(write=False) as s:
        audit = (await s.scalars(select(AuditEvent).where(AuditEvent.resource_id == body["id"]))).all()
        assert [a.action for a in audit] == ["webhook_subscription.create"]
        assert body["secret"] not in str(audit[0].after)


async def test_event_types_the_clients_scopes_cannot_read_are_refused(client, world, hook_client, allow_receiver):
    r = await client.post(_url(hook_client.id), headers=world.headers("admin"), json={
        "url": f"https://{RECEIVER_HOST}/x", "event_types": ["finding.assigned", "duty_list.published"]})
    assert r.status_code == 422
    assert [e["pointer"] for e in problem(r)["errors"]] == ["/event_types/1"]


async def test_an_allowlisted_host_may_be_internal_and_plain_http(client, world, hook_client, allow_receiver):
    r = await client.post(_url(hook_client.id), headers=world.headers("admin"), json={
        "url": f"http://{RECEIVER_HOST}:8080/x", "event_types": ["finding.assigned"]})
    assert r.status_code == 201, r.text


async def test_update_rechecks_the_url_and_rotation_keeps_the_old_secret_for_a_while(
        client, world, database, hook_client, allow_receiver, fake_dns):
    admin = world.headers("admin")
    created = (await client.post(_url(hook_client.id), headers=admin, json={
        "url": f"https://{RECEIVER_HOST}/x", "event_types": ["finding.assigned"]})).json()
    tag = make_etag(created["id"], created["version"])
    r = await client.patch(f"/webhook-subscriptions/{created['id']}", headers={**admin, "If-Match": tag},
                           json={"url": "https://loopback.example/x"})
    assert r.status_code == 422 and problem(r)["errors"][0]["pointer"] == "/url"
    r = await client.patch(f"/webhook-subscriptions/{created['id']}", headers={**admin, "If-Match": tag},
                           json={"is_active": False, "event_types": ["report.submitted"]})
    assert r.status_code == 200 and (r.json()["is_active"], r.json()["event_types"]) == (False, ["report.submitted"])
    fresh = r.headers["etag"]
    r = await client.patch(f"/webhook-subscriptions/{created['id']}", headers={**admin, "If-Match": tag},
                           json={"description": "stale"})
    assert r.status_code == 412
    r = await client.post(f"/webhook-subscriptions/{created['id']}/rotate-secret",
                          headers={**admin, "If-Match": fresh})
    assert r.status_code == 200, r.text
    assert r.json()["secret"] != created["secret"] and r.json()["previous_secret_expires_at"]
    async with database.transaction(write=False) as s:
        sub = await s.scalar(select(WebhookSubscription))
    assert (sub.secret, sub.previous_secret) == (r.json()["secret"], created["secret"])


async def test_other_provinces_admins_do_not_see_the_subscriptions_or_deliveries(client, world, database):
    _, sub = await subscribe(database, world, "env")
    async with database.transaction() as s:
        await events.emit(s, "finding.assigned", ("finding", "f"), world.org("env").id, {})
    henan = world.headers("henan_admin")
    assert (await client.get(f"/webhook-subscriptions/{sub.id}", headers=henan)).status_code == 404
    assert (await client.get("/webhook-deliveries", headers=henan)).json()["items"] == []
    mine = await client.get("/webhook-deliveries", headers=world.headers("admin"),
                            params={"status": "pending", "subscription_id": str(sub.id)})
    assert [d["event_type"] for d in mine.json()["items"]] == ["finding.assigned"]
    [delivery] = mine.json()["items"]
    assert (await client.post(f"/webhook-deliveries/{delivery['id']}/replay", headers=henan)).status_code == 404


# ------------------------------------------------------------------------------------ the feed


async def _positioned(database) -> None:
    async with database.transaction() as s:
        await events.assign_positions(s)


async def test_the_feed_serves_positioned_events_in_order_scoped_and_filtered(client, world, database):
    async with database.transaction() as s:
        await events.emit(s, "finding.assigned", ("finding", "env-1"), world.org("env").id, {"k": 1})
        await events.emit(s, "report.submitted", ("report", "env-2"), world.org("env_unit").id, {})
        await events.emit(s, "finding.closed", ("finding", "henan-1"), world.org("henan_env").id, {})
        await events.emit(s, "finding.closed", ("finding", "water-1"), world.org("water").id, {})
    staff = world.headers("env_staff")
    assert (await client.get("/events", headers=staff)).json() == {"items": [], "next_after": 0}  # not yet
    await _positioned(database)
    page = (await client.get("/events", headers=staff)).json()
    assert [e["subject_id"] for e in page["items"]] == ["env-1", "env-2"]  # env's subtree only
    positions = [e["position"] for e in page["items"]]
    assert positions == sorted(positions) and page["next_after"] == positions[-1]
    first = (await client.get("/events", headers=staff, params={"limit": 1})).json()
    rest = (await client.get("/events", headers=staff, params={"after": first["next_after"]})).json()
    assert [e["subject_id"] for e in first["items"] + rest["items"]] == ["env-1", "env-2"]
    typed = (await client.get("/events", headers=staff, params={"type": "report.submitted"})).json()
    assert [e["subject_id"] for e in typed["items"]] == ["env-2"]
    admin = (await client.get("/events", headers=world.headers("admin"))).json()
    assert [e["subject_id"] for e in admin["items"]] == ["env-1", "env-2", "water-1"]  # all of Hainan
    async with database.transaction(write=False) as s:
        assert await s.scalar(select(Event.id).where(Event.subject_id == "henan-1")) is not None


async def test_a_clients_feed_follows_its_scopes(client, world, database):
    from app.core import security

    async with database.transaction() as s:
        await events.emit(s, "finding.assigned", ("finding", "f-1"), world.org("env").id, {})
        await events.emit(s, "report.submitted", ("report", "r-1"), world.org("env").id, {})
    await _positioned(database)

    async with database.transaction() as s:
        c = IntegrationClient(client_id="edc_feed", name="轮询方", secret_hash="x" * 64, scopes=["findings:read"],
                              organisation_id=world.org("env").id)
        s.add(c)
        await s.flush()
        minted = security.issue_access_token(subject=str(c.id), subject_kind="client", token_version=0,
                                             scopes=["findings:read"], organisation_id=str(world.org("env").id))
    r = await client.get("/events", headers={"Authorization": f"Bearer {minted.token}"})
    assert r.status_code == 200, r.text
    assert [e["subject_id"] for e in r.json()["items"]] == ["f-1"]  # reports:read is not among its scopes


# ---------------------------------------------------------------------------- notifications


async def test_an_assignment_notifies_the_responsible_organisation_and_the_digest_counts_it(client, world):
    finding = await assigned_finding(client, world)
    leader = world.headers("env_leader")
    page = (await client.get("/me/notifications", headers=leader)).json()
    assert [(n["kind"], n["subject_id"]) for n in page["items"]] == [("assigned", finding["id"])]
    assert (await client.get("/me/notifications", headers=world.headers("env_viewer"))).json()["items"] == []
    digest = (await client.get("/me/notifications/digest", headers=leader)).json()
    assert (digest["digest"], digest["counts"]) == ("immediate", {"assigned": 1})
    note = page["items"][0]["id"]
    r = await client.post(f"/me/notifications/{note}/read", headers=leader)
    assert r.status_code == 200 and r.json()["read_at"]
    again = await client.post(f"/me/notifications/{note}/read", headers=leader)
    assert again.json()["read_at"] == r.json()["read_at"]
    assert (await client.post(f"/me/notifications/{note}/read", headers=world.headers("env_staff"))).status_code == 404
    unread = (await client.get("/me/notifications", headers=leader, params={"unread": "true"})).json()
    assert unread["items"] == []
    assert (await client.get("/me/notifications/digest", headers=leader)).json()["counts"] == {}


async def test_the_digest_setting_is_per_user_and_the_daily_pass_summarises_once(client, world, database):
    from app.core.calendar import today_in_zone
    from app.services import notifications

    staff = world.headers("env_staff")
    assert (await client.get("/me/notification-settings", headers=staff)).json() == {"digest": "immediate"}
    r = await client.put("/me/notification-settings", headers=staff, json={"digest": "daily"})
    assert r.status_code == 200 and r.json() == {"digest": "daily"}
    assert (await client.get("/me/notification-settings", headers=staff)).json() == {"digest": "daily"}
    assert (await client.put("/me/notification-settings", headers=staff, json={"digest": "hourly"})).status_code == 422
    await assigned_finding(client, world)
    day = today_in_zone()
    async with database.transaction() as s:
        assert await notifications.daily_digests(s, day) == 1  # env_staff's, the only daily one
    async with database.transaction() as s:
        assert await notifications.daily_digests(s, day) == 0  # summarised once
    assert (await client.get("/me/notifications", headers=staff)).json()["items"]  # still listed in-app
