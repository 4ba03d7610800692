"""LISTEN over psycopg 3: a webhook notification posted to intercom-sql's webhook endpoint
arrives as a PostgreSQL notification on `intercom_events` and on the topic's channel, and
the notification is then a row of `webhook_events`.

Usage: notify_check.py HOST PORT USER PASSWORD DATABASE WEBHOOK_URL
The client secret comes from INTERCOM_CLIENT_SECRET (as the server reads it).
"""

import hashlib
import hmac
import json
import os
import sys
import urllib.request

import psycopg


def post_signed(url, secret, notification):
    body = json.dumps(notification).encode()
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.status


def main():
    host, port, user, password, database, webhook_url = sys.argv[1:7]
    secret = os.environ["INTERCOM_CLIENT_SECRET"]
    with psycopg.connect(
        host=host, port=port, user=user, password=password, dbname=database, autocommit=True
    ) as conn:
        conn.execute("LISTEN intercom_events")
        conn.execute('LISTEN "conversation.admin"')
        notification = {
            "type": "notification_event",
            "app_id": "psycopg-app",
            "id": "notif_psycopg_1",
            "topic": "conversation.admin.closed",
            "created_at": 1700000000,
            "delivery_attempts": 1,
            "data": {"type": "notification_event_data",
                     "item": {"type": "conversation", "id": "4242"}},
        }
        post_signed(webhook_url, secret, notification)
        received = list(conn.notifies(timeout=10, stop_after=2))
        channels = sorted(n.channel for n in received)
        assert channels == ["conversation.admin", "intercom_events"], channels
        payload = json.loads(received[0].payload)
        assert payload["id"] == "notif_psycopg_1", payload
        assert payload["topic"] == "conversation.admin.closed", payload
        assert payload["item_id"] == "4242", payload
        row = conn.execute(
            "SELECT topic, item_type, item_id, app_id FROM webhook_events WHERE id = %s",
            ("notif_psycopg_1",),
        ).fetchone()
        assert row == ("conversation.admin.closed", "conversation", "4242", "psycopg-app"), row
        conn.execute("UNLISTEN *")
    print("notify_check: all checks passed")


if __name__ == "__main__":
    main()
