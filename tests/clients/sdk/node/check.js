// Intercom's official Node SDK (intercom-client 7.x) against an Intercom API root, for the
// routes of the support and CRM side added to the emulator: /me, /admins/activity_logs,
// /away_status_reasons, /events (list, summary, summaries), /visitors (find, update),
// /conversations/{id}/handling_events, /segments/{id}, POST /companies/list, the company
// scroll, POST /tickets/enqueue and /jobs/status/{id}.
//
// Usage: node check.js BASE_URL TOKEN VISITOR_USER_ID   (NODE_PATH names the SDK's node_modules)
//
// Each call must succeed and answer what the route documents. Prints one line per check; exit
// codes: 0 every check passed, 1 a check failed (or a call threw), 3 the SDK is not installed.
"use strict";

let IntercomClient;
try {
  ({ IntercomClient } = require("intercom-client"));
} catch (e) {
  console.log("intercom-client is not installed (tests/clients/install.sh)");
  process.exit(3);
}

const failed = [];
function check(name, ok, detail = "") {
  console.log(ok ? "ok    " : "FAILED", name, detail);
  if (!ok) failed.push(name);
}

async function all(pageable) {
  const items = [];
  for await (const item of pageable) items.push(item);
  return items;
}

async function main() {
  const [baseUrl, token, visitorUserId] = process.argv.slice(2);
  const client = new IntercomClient({ token, baseUrl });

  const me = await client.admins.identify();
  check("GET /me", Boolean(me && me.id && me.app && me.app.id_code), `admin ${me && me.id}`);

  const logs = await client.admins.listAllActivityLogs({ created_at_after: "0" });
  const entries = logs.activity_logs || [];
  check("GET /admins/activity_logs", entries.length > 0, `${entries.length} entries`);

  // Typed as a bare array by the SDK; Intercom's 2.15 description (the emulator's) says
  // {"type": "list", "data": [...]}: either is accepted here.
  let reasons = await client.awayStatusReasons.listAwayStatusReasons();
  reasons = Array.isArray(reasons) ? reasons : reasons.data || [];
  check("GET /away_status_reasons", reasons.length > 0 && reasons.every((r) => r.label),
    `${reasons.length} reasons`);

  const contacts = await client.contacts.list({ per_page: 50 });
  const contact = contacts.data[0];
  const listed = await client.events.list({ type: "user", intercom_user_id: contact.id, per_page: 2 });
  check("GET /events", (listed.events || []).length > 0, `${(listed.events || []).length} events`);
  const summary = await client.events.list({ type: "user", intercom_user_id: contact.id, summary: true });
  check("GET /events?summary=true", summary.type === "event.summary" && (summary.events || []).length > 0);

  const user = contacts.data.find((c) => c.external_id);
  await client.events.summaries({
    user_id: user.external_id,
    event_summaries: { event_name: "node-sdk-checked", count: 2, first: 1767225600, last: 1769904000 },
  });
  check("POST /events/summaries", true, `for user ${user.external_id}`);

  const visitor = await client.visitors.find({ user_id: visitorUserId });
  check("GET /visitors", visitor && visitor.user_id === visitorUserId, `visitor ${visitor && visitor.id}`);
  const updated = await client.visitors.update({ user_id: visitorUserId, name: "Node SDK Visitor" });
  check("PUT /visitors", updated && updated.name === "Node SDK Visitor");

  const conversations = await client.conversations.list({ per_page: 5 });
  const conversation = conversations.data[0];
  const handling = await client.unstable.conversations.listHandlingEvents({ id: conversation.id });
  check("GET /conversations/{id}/handling_events", Array.isArray(handling.handling_events),
    `${(handling.handling_events || []).length} events of ${conversation.id}`);

  const segments = await client.segments.list({ include_count: true });
  const first = segments.segments[0];
  const found = await client.segments.find({ segment_id: first.id });
  check("GET /segments/{id}", found.id === first.id && found.name === first.name);

  // POST /companies/list, newest first, every page; then the scroll to its end.
  const listedCompanies = await all(await client.companies.list({ per_page: 7, order: "desc" }));
  const seen = listedCompanies.map((c) => c.last_request_at);
  const sorted = seen.every((t, i) => i === 0 || seen[i - 1] >= t);
  check("POST /companies/list", listedCompanies.length > 7 && sorted,
    `${listedCompanies.length} companies, newest first: ${sorted}`);
  // The SDK's iterator asks again while a page carries a scroll_param: it ends only because
  // the empty last page has none (docs/intercom-notes.md, "Where the SDKs disagree").
  const scrolled = (await all(await client.companies.scroll())).map((c) => c.id);
  check("GET /companies/scroll (to the end)",
    scrolled.length === listedCompanies.length && new Set(scrolled).size === scrolled.length,
    `${scrolled.length} companies`);

  const types = await client.ticketTypes.list();
  const job = await client.tickets.enqueueCreateTicket({
    ticket_type_id: types.data[0].id,
    contacts: [{ id: contact.id }],
    ticket_attributes: { _default_title_: "Queued by the Node SDK" },
  });
  check("POST /tickets/enqueue", job.type === "job" && job.status === "pending", `job ${job.id}`);
  const status = await client.jobs.status({ job_id: job.id });
  check("GET /jobs/status/{id}", status.status === "success" && Boolean(status.resource_id),
    `ticket ${status.resource_id}`);
  const ticket = await client.tickets.get({ ticket_id: status.resource_id });
  check("the queued ticket exists", ticket.ticket_attributes._default_title_ === "Queued by the Node SDK");
}

main()
  .catch((e) => check("no call threw", false, `${e.constructor.name}: ${String(e.message).slice(0, 300)}`))
  .finally(() => process.exit(failed.length ? 1 : 0));
