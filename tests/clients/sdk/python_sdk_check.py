"""Intercom's official Python SDK (python-intercom 5.x) against an Intercom API root, for the
routes of the admins' and contacts' activity side: `/me`, `/admins/activity_logs`,
`/away_status_reasons`, `/events` (list, summary, summaries), `/visitors` (find, update),
`/conversations/{id}/handling_events`, `/segments/{id}`, the whole company scroll, `POST
/companies/list`, `POST /tickets/enqueue` and `/jobs/status/{id}`.

Usage: python_sdk_check.py BASE_URL TOKEN VISITOR_USER_ID

Each call must succeed and answer what the route documents. Prints one line per check; exit
codes: 0 every check passed, 1 a check failed (or a call raised), 3 the SDK is not installed.
"""

import sys

try:
    from intercom import Intercom
except ImportError:
    print("python-intercom is not installed (tests/clients/install.sh)")
    sys.exit(3)

FAILED = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAILED"), name, detail)
    if not ok:
        FAILED.append(name)


def main():
    base_url, token, visitor_user_id = sys.argv[1:4]
    client = Intercom(token=token, base_url=base_url)

    me = client.admins.identify()
    check("GET /me", me is not None and me.id and me.app is not None and me.app.id_code,
          f"admin {me.id if me else None}")

    logs = client.admins.list_all_activity_logs(created_at_after="0")
    check("GET /admins/activity_logs", len(logs.activity_logs or []) > 0,
          f"{len(logs.activity_logs or [])} entries on the first page")

    # The SDK types this answer as a bare array; Intercom's 2.15 description (which the
    # emulator follows) as {"type": "list", "data": [...]}, which the SDK hands back as a dict.
    reasons = client.away_status_reasons.list_away_status_reasons()
    reasons = reasons.get("data", []) if isinstance(reasons, dict) else reasons
    labels = [r["label"] if isinstance(r, dict) else r.label for r in reasons]
    check("GET /away_status_reasons", len(labels) > 0 and all(labels), f"{len(labels)} reasons")

    # The first contact has data events in the emulator's demo workspace.
    contact = next(iter(client.contacts.list(per_page=5)))
    listed = client.events.list(type="user", intercom_user_id=contact.id, per_page=2)
    events = getattr(listed, "events", None) or []
    check("GET /events", len(events) > 0, f"{len(events)} events of {contact.id}")
    summary = client.events.list(type="user", intercom_user_id=contact.id, summary=True)
    check("GET /events?summary=true",
          summary.type == "event.summary" and len(summary.events or []) > 0,
          f"{len(summary.events or [])} event names")

    user = next(c for c in client.contacts.list(per_page=50) if c.external_id)
    client.events.summaries(user_id=user.external_id,
                            event_summaries={"event_name": "sdk-checked", "count": 2,
                                             "first": 1767225600, "last": 1769904000})
    check("POST /events/summaries", True, f"for user {user.external_id}")

    visitor = client.visitors.find(user_id=visitor_user_id)
    check("GET /visitors", visitor is not None and visitor.user_id == visitor_user_id,
          f"visitor {visitor.id if visitor else None}")
    updated = client.visitors.update(request={"user_id": visitor_user_id, "name": "SDK Visitor"})
    check("PUT /visitors", updated is not None and updated.name == "SDK Visitor")

    conversation = next(iter(client.conversations.list(per_page=5)))
    handling = client.unstable.conversations.list_handling_events(id=conversation.id)
    check("GET /conversations/{id}/handling_events",
          handling.handling_events is not None,
          f"{len(handling.handling_events or [])} events of {conversation.id}")

    segments = client.segments.list(include_count=True)
    first = segments.segments[0]
    found = client.segments.find(segment_id=first.id)
    check("GET /segments/{id}", found.id == first.id and found.name == first.name)

    ids = [c.id for c in client.companies.scroll()]
    check("GET /companies/scroll (to the end)", len(ids) > 0 and len(ids) == len(set(ids)),
          f"{len(ids)} companies")

    listed = list(client.companies.list(per_page=7, order="desc"))
    seen = [c.last_request_at for c in listed]
    check("POST /companies/list", len(listed) == len(ids) and seen == sorted(seen, reverse=True),
          f"{len(listed)} companies, newest first")

    ticket_type = client.ticket_types.list().data[0]
    # This SDK's enqueue_create_ticket has no ticket_attributes parameter (the spec's body
    # has): the title goes in as an extra body parameter.
    title = {"ticket_attributes": {"_default_title_": "Queued by the Python SDK"}}
    job = client.tickets.enqueue_create_ticket(
        ticket_type_id=ticket_type.id, contacts=[{"id": contact.id}],
        request_options={"additional_body_parameters": title})
    check("POST /tickets/enqueue", job.type == "job" and job.status == "pending", f"job {job.id}")
    status = client.jobs.status(job_id=job.id)
    check("GET /jobs/status/{id}", status.status == "success" and bool(status.resource_id),
          f"ticket {status.resource_id}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a call that raised is a failed check, reported in one line
        check("no call raised", False, f"{type(e).__name__}: {str(e)[:300]}")
    sys.exit(1 if FAILED else 0)
