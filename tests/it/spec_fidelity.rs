//! Spec fidelity: the emulator's routes and response bodies must agree with the official
//! Intercom OpenAPI 2.15 description (through the extract validated by [`crate::openapi`]).
//!
//! * every `(METHOD, template)` in `emulator::ROUTES` exists in the spec;
//! * a concrete request is made for every route (reads first, then writes, then deletes), and
//!   every 2xx body validates against the spec's schema for that status;
//! * error paths (bad token, unknown id, over-nested search) return `error.list` bodies.
//!
//! Violations are collected, not stopped at, and also written to `/tmp/spec_violations.txt`
//! for the emulator's authors.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use intercom_sql::emulator::{self, EmulatorConfig, ROUTES};
use serde_json::{Value, json};

use crate::openapi::{Spec, best_template, same_template};

/// Where the violations found by [`every_route_answers_per_spec`] are written.
const VIOLATIONS_FILE: &str = "/tmp/spec_violations.txt";

/// One HTTP exchange.
struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    /// A 2xx, or a redirect (a call's recording answers `302` to its signed URL).
    fn ok(&self) -> bool {
        (200..400).contains(&self.status)
    }

    /// Ids (as strings) of the items under `key`, or under `data` when `key` is absent.
    fn ids(&self, key: &str) -> Vec<String> {
        let items = self
            .body
            .get(key)
            .or_else(|| self.body.get("data"))
            .and_then(Value::as_array);
        items
            .map(|items| items.iter().filter_map(|i| id_of(&i["id"])).collect())
            .unwrap_or_default()
    }

    fn id(&self) -> Option<String> {
        id_of(&self.body["id"])
    }
}

fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A running emulator plus a recording, validating HTTP client.
struct Harness {
    /// The server (kept alive by the harness; its state lists objects no endpoint enumerates,
    /// such as visitors).
    emulator: emulator::RunningEmulator,
    base: String,
    token: String,
    http: reqwest::Client,
    spec: &'static Spec,
    /// "METHOD template" of ROUTES → (requests, 2xx responses).
    hits: BTreeMap<String, (usize, usize)>,
    /// (route, normalized error) -> occurrences; see [`normalize`].
    violations: BTreeMap<(String, String), Group>,
    /// Requests that got an unexpected non-2xx answer (coverage notes, not spec violations).
    notes: Vec<String>,
    /// Scripted requests not sent because the emulator does not serve their route.
    skipped: BTreeSet<String>,
    /// "route: reason" of every allow-list entry (openapi::KNOWN_CONFLICTS) that was needed.
    allowed: BTreeSet<String>,
}

fn route_key(method: &str, template: &str) -> String {
    format!("{} {template}", method.to_uppercase())
}

impl Harness {
    async fn start() -> Harness {
        let config = EmulatorConfig::default();
        let token = config.token.clone();
        let running = emulator::spawn(config, "127.0.0.1:0")
            .await
            .expect("emulator starts");
        let base = running.base_url.trim_end_matches('/').to_string();
        let hits = ROUTES
            .iter()
            .map(|(m, t)| (route_key(m, t), (0, 0)))
            .collect();
        Harness {
            emulator: running,
            base,
            token,
            // A redirect is an answer to validate, not a request to follow.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            spec: Spec::global(),
            hits,
            violations: BTreeMap::new(),
            notes: Vec::new(),
            skipped: BTreeSet::new(),
            allowed: BTreeSet::new(),
        }
    }

    /// Send one request with the given bearer token; no validation, no bookkeeping.
    async fn raw(&self, method: &str, path: &str, body: Option<&Value>, token: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Intercom-Version", "2.15");
        // Export files are sent only to the Accept that Intercom asks for.
        request = match path.starts_with("/download/") {
            true => request.header("Accept", "application/octet-stream"),
            false => request.header("Accept", "application/json"),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request reaches the emulator");
        let status = response.status().as_u16();
        let text = response.text().await.expect("response body");
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body }
    }

    /// Send a request, count it against its route, and validate a 2xx body against the spec.
    /// Requests for routes the emulator does not serve (yet) are not sent: the script covers
    /// more of the spec than the emulator, and answers `status: 0` for those.
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let route = best_template(
            ROUTES
                .iter()
                .filter(|(m, _)| m.eq_ignore_ascii_case(method))
                .map(|(_, t)| *t),
            path,
        );
        // Skip when the emulator would route the request to another operation than the spec
        // does (e.g. `/admins/activity_logs` caught by `/admins/{admin_id}`).
        let spec_template = self.spec.operation(method, path).map(|op| op.template);
        let route = route.filter(|r| spec_template.is_some_and(|t| same_template(r, t)));
        let Some(route) = route else {
            self.skipped
                .insert(format!("{} {path}", method.to_uppercase()));
            return Reply {
                status: 0,
                body: Value::Null,
            };
        };
        let token = self.token.clone();
        let reply = self.raw(method, path, body.as_ref(), &token).await;
        let label = route_key(method, route);
        if let Some(entry) = self.hits.get_mut(&label) {
            entry.0 += 1;
            if reply.ok() {
                entry.1 += 1;
            }
        }
        if reply.ok() {
            let verdict = self
                .spec
                .validate_response(method, path, reply.status, &reply.body);
            if let Ok(accepted) = &verdict {
                for reason in &accepted.conflicts_used {
                    self.allowed.insert(format!("{label}: {reason}"));
                }
            }
            if let Err(invalid) = verdict {
                let request = format!("{} {path} -> {}", method.to_uppercase(), reply.status);
                for error in invalid.0 {
                    let group = self
                        .violations
                        .entry((label.clone(), normalize(&error)))
                        .or_default();
                    group.count += 1;
                    if group.example.is_empty() {
                        group.example = format!("{request}: {error}");
                    }
                }
            }
        } else {
            self.notes.push(format!(
                "{} {path} -> {} {}",
                method.to_uppercase(),
                reply.status,
                short(&reply.body)
            ));
        }
        reply
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body)).await
    }

    async fn put(&mut self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(body)).await
    }

    async fn delete(&mut self, path: &str, body: Option<Value>) -> Reply {
        self.call("DELETE", path, body).await
    }

    /// True if the emulator serves `(method, template)` (parameter names ignored).
    fn serves(&self, method: &str, template: &str) -> bool {
        ROUTES
            .iter()
            .any(|(m, t)| m.eq_ignore_ascii_case(method) && same_template(t, template))
    }
}

/// Occurrences of one kind of violation on one route.
#[derive(Default)]
struct Group {
    count: usize,
    /// The first occurrence: request, status and the full error.
    example: String,
}

/// An error line with array indexes replaced by `[*]` and the offending value dropped, so the
/// same defect in 50 list items is reported once: `$.data[*].email: expected string, got null`.
fn normalize(error: &str) -> String {
    let mut out = String::with_capacity(error.len());
    let mut chars = error.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('*');
        }
    }
    if let Some((head, tail)) = out.rsplit_once(", got ") {
        let kind = tail.split_whitespace().next().unwrap_or("");
        return format!("{head}, got {kind}");
    }
    out
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn first(ids: &[String]) -> String {
    ids.first().cloned().unwrap_or_else(|| "missing".into())
}

#[tokio::test]
async fn every_route_exists_in_the_spec() {
    let spec = Spec::global();
    assert!(!ROUTES.is_empty(), "emulator::ROUTES is empty");
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|(m, t)| spec.operation_for_template(m, t).is_none())
        .map(|(m, t)| route_key(m, t))
        .collect();
    assert!(
        missing.is_empty(),
        "emulator routes absent from the 2.15 spec:\n{}",
        missing.join("\n")
    );
}

/// The bulk of the test: a concrete request for every route, every 2xx body validated.
#[tokio::test]
async fn every_route_answers_per_spec() {
    let mut h = Harness::start().await;
    exercise_reads(&mut h).await;
    exercise_writes(&mut h).await;
    exercise_fallback(&mut h).await;

    let unrequested: Vec<&String> = h
        .hits
        .iter()
        .filter(|(_, (n, _))| *n == 0)
        .map(|(k, _)| k)
        .collect();
    let never_ok: Vec<&String> = h
        .hits
        .iter()
        .filter(|(_, (n, ok))| *n > 0 && *ok == 0)
        .map(|(k, _)| k)
        .collect();

    let mut report = String::new();
    let _ = writeln!(
        report,
        "# Emulator responses that violate the Intercom OpenAPI 2.15 description\n\
         # (written by tests/it/spec_fidelity.rs; {} distinct violations; array indexes shown as\n\
         # [*], each with its count and first occurrence)\n",
        h.violations.len()
    );
    let mut current = "";
    for ((route, error), group) in &h.violations {
        if route != current {
            let _ = writeln!(report, "{route}");
            current = route;
        }
        let _ = writeln!(
            report,
            "    {error}   [{}x]\n        e.g. {}",
            group.count, group.example
        );
    }
    if !never_ok.is_empty() {
        let _ = writeln!(
            report,
            "# Routes that never answered 2xx (body not validated):"
        );
        for r in &never_ok {
            let _ = writeln!(report, "{r}");
        }
    }
    if !h.notes.is_empty() {
        let _ = writeln!(report, "\n# Non-2xx answers to scripted requests:");
        for n in &h.notes {
            let _ = writeln!(report, "{n}");
        }
    }
    if !h.allowed.is_empty() {
        let _ = writeln!(
            report,
            "\n# Known spec conflicts accepted (openapi::KNOWN_CONFLICTS):"
        );
        for a in &h.allowed {
            let _ = writeln!(report, "{a}");
        }
    }
    if !h.skipped.is_empty() {
        let _ = writeln!(
            report,
            "\n# {} scripted requests not sent: the emulator does not serve their routes yet",
            h.skipped.len()
        );
    }
    let _ = std::fs::write(VIOLATIONS_FILE, &report);

    assert!(
        unrequested.is_empty(),
        "routes in ROUTES that got no request: {unrequested:#?}"
    );
    assert!(
        h.violations.is_empty() && never_ok.is_empty(),
        "{report}\n(also written to {VIOLATIONS_FILE})"
    );
}

/// Collected ids of seeded objects, discovered through list endpoints.
#[derive(Default)]
struct Ids {
    contacts: Vec<String>,
    users: Vec<String>,
    leads: Vec<String>,
    external_ids: Vec<String>,
    companies: Vec<String>,
    company_ids: Vec<String>,
    conversations: Vec<String>,
    tickets: Vec<String>,
    tags: Vec<String>,
    admins: Vec<String>,
    teams: Vec<String>,
    segments: Vec<String>,
    notes: Vec<String>,
    ticket_types: Vec<String>,
    ticket_type_attributes: Vec<String>,
    ticket_states: Vec<String>,
    articles: Vec<String>,
    collections: Vec<String>,
    help_centers: Vec<String>,
    news_items: Vec<String>,
    newsfeeds: Vec<String>,
    brands: Vec<String>,
    emails: Vec<String>,
    data_attributes: Vec<String>,
    subscription_types: Vec<String>,
    calls: Vec<String>,
}

async fn discover(h: &mut Harness) -> Ids {
    let mut ids = Ids::default();
    let r = h.get("/contacts?per_page=50").await;
    ids.contacts = r.ids("data");
    if let Some(items) = r.body["data"].as_array() {
        for c in items {
            let id = id_of(&c["id"]).unwrap_or_default();
            match c["role"].as_str() {
                Some("user") => ids.users.push(id),
                Some("lead") => ids.leads.push(id),
                _ => {}
            }
            if let Some(e) = c["external_id"].as_str() {
                ids.external_ids.push(e.to_string());
            }
        }
    }
    let r = h.get("/companies").await;
    ids.companies = r.ids("data");
    if let Some(items) = r.body["data"].as_array() {
        ids.company_ids = items
            .iter()
            .filter_map(|c| c["company_id"].as_str().map(String::from))
            .collect();
    }
    ids.conversations = h.get("/conversations").await.ids("conversations");
    ids.tags = h.get("/tags").await.ids("data");
    ids.admins = h.get("/admins").await.ids("admins");
    ids.teams = h.get("/teams").await.ids("teams");
    ids.segments = h.get("/segments").await.ids("segments");
    let r = h.get("/ticket_types").await;
    ids.ticket_types = r.ids("data");
    if let Some(items) = r.body["data"].as_array() {
        for t in items {
            let attrs = &t["ticket_type_attributes"];
            let list = attrs["ticket_type_attributes"]
                .as_array()
                .or_else(|| attrs["data"].as_array());
            for a in list.into_iter().flatten() {
                ids.ticket_type_attributes.extend(id_of(&a["id"]));
            }
        }
    }
    ids.ticket_states = h.get("/ticket_states").await.ids("data");
    ids.tickets = h
        .post(
            "/tickets/search",
            json!({"query": {"field": "created_at", "operator": ">", "value": 0}}),
        )
        .await
        .ids("tickets");
    ids.articles = h.get("/articles").await.ids("data");
    ids.collections = h.get("/help_center/collections").await.ids("data");
    ids.help_centers = h.get("/help_center/help_centers").await.ids("data");
    ids.news_items = h.get("/news/news_items").await.ids("data");
    ids.newsfeeds = h.get("/news/newsfeeds").await.ids("data");
    ids.brands = h.get("/brands").await.ids("data");
    ids.emails = h.get("/emails").await.ids("data");
    ids.data_attributes = h.get("/data_attributes").await.ids("data");
    ids.subscription_types = h.get("/subscription_types").await.ids("data");
    ids.calls = h.get("/calls").await.ids("data");
    if let Some(c) = ids.contacts.first().cloned() {
        ids.notes = h.get(&format!("/contacts/{c}/notes")).await.ids("data");
    }
    ids
}

/// Every read-only route, with ids of seeded objects.
async fn exercise_reads(h: &mut Harness) {
    let ids = discover(h).await;
    let contact = first(&ids.users);
    let lead = first(&ids.leads);

    // Contacts: list pages, single objects, children, searches.
    let page = h.get("/contacts?per_page=2").await;
    if let Some(cursor) = page.body["pages"]["next"]["starting_after"].as_str() {
        h.get(&format!("/contacts?per_page=2&starting_after={cursor}"))
            .await;
    }
    for c in ids.contacts.iter().take(5) {
        h.get(&format!("/contacts/{c}")).await;
    }
    h.get(&format!("/contacts/{lead}")).await;
    if let Some(e) = ids.external_ids.first() {
        h.get(&format!("/contacts/find_by_external_id/{e}")).await;
    }
    for child in ["companies", "notes", "segments", "subscriptions", "tags"] {
        h.get(&format!("/contacts/{contact}/{child}")).await;
    }
    for query in [
        json!({"query": {"field": "role", "operator": "=", "value": "user"}}),
        json!({"query": {"operator": "AND", "value": [
            {"field": "created_at", "operator": ">", "value": 0},
            {"operator": "OR", "value": [
                {"field": "email", "operator": "~", "value": "@"},
                {"field": "role", "operator": "=", "value": "lead"}]}]},
            "pagination": {"per_page": 2}}),
        json!({"query": {"field": "name", "operator": "=", "value": "nobody at all"}}),
    ] {
        let r = h.post("/contacts/search", query.clone()).await;
        if let Some(cursor) = r.body["pages"]["next"]["starting_after"].as_str() {
            let mut next = query;
            next["pagination"] = json!({"per_page": 2, "starting_after": cursor});
            h.post("/contacts/search", next).await;
        }
    }

    // Companies.
    h.get("/companies?per_page=2").await;
    if let Some(cid) = ids.company_ids.first() {
        h.get(&format!("/companies?company_id={cid}")).await;
    }
    h.post("/companies/list", json!({})).await;
    let scroll = h.get("/companies/scroll").await;
    if let Some(param) = scroll.body["scroll_param"].as_str() {
        h.get(&format!("/companies/scroll?scroll_param={param}"))
            .await;
    }
    let company = first(&ids.companies);
    h.get(&format!("/companies/{company}")).await;
    for child in ["contacts", "segments", "notes"] {
        h.get(&format!("/companies/{company}/{child}")).await;
    }

    let listed = h.get("/companies?per_page=1").await;
    if let Some(name) = listed.body["data"][0]["name"].as_str() {
        h.get(&format!("/companies?name={}", name.replace(' ', "%20")))
            .await;
    }
    if let Some(tag) = ids.tags.first() {
        h.get(&format!("/companies?tag_id={tag}")).await;
    }
    if let Some(segment) = ids.segments.first() {
        h.get(&format!("/companies?segment_id={segment}")).await;
    }

    // Conversations and tickets.
    let page = h.get("/conversations?per_page=2").await;
    if let Some(cursor) = page.body["pages"]["next"]["starting_after"].as_str() {
        h.get(&format!(
            "/conversations?per_page=2&starting_after={cursor}"
        ))
        .await;
    }
    for c in ids.conversations.iter().take(5) {
        h.get(&format!("/conversations/{c}")).await;
        h.get(&format!("/conversations/{c}/handling_events")).await;
    }
    for query in [
        json!({"query": {"field": "open", "operator": "=", "value": true}}),
        json!({"query": {"operator": "OR", "value": [
            {"field": "state", "operator": "=", "value": "closed"},
            {"field": "created_at", "operator": ">", "value": 0}]},
            "pagination": {"per_page": 2}}),
        json!({"query": {"field": "source.body", "operator": "~", "value": "hello"}}),
    ] {
        h.post("/conversations/search", query).await;
    }
    for query in [
        json!({"query": {"field": "open", "operator": "=", "value": true}}),
        json!({"query": {"operator": "AND", "value": [
            {"field": "created_at", "operator": ">", "value": 0},
            {"field": "category", "operator": "=", "value": "request"}]}}),
    ] {
        h.post("/tickets/search", query).await;
    }
    for t in ids.tickets.iter().take(3) {
        h.get(&format!("/tickets/{t}")).await;
    }

    // Workspace objects.
    h.get("/me").await;
    h.get("/admins?display_avatar=true").await;
    for a in ids.admins.iter().take(3) {
        h.get(&format!("/admins/{a}")).await;
    }
    h.get("/admins/activity_logs?created_at_after=0").await;
    h.get("/away_status_reasons").await;
    for (list, one) in [
        (&ids.teams, "/teams"),
        (&ids.segments, "/segments"),
        (&ids.tags, "/tags"),
        (&ids.ticket_types, "/ticket_types"),
        (&ids.articles, "/articles"),
        (&ids.collections, "/help_center/collections"),
        (&ids.help_centers, "/help_center/help_centers"),
        (&ids.news_items, "/news/news_items"),
        (&ids.newsfeeds, "/news/newsfeeds"),
        (&ids.notes, "/notes"),
        (&ids.calls, "/calls"),
    ] {
        for id in list.iter().take(3) {
            h.get(&format!("{one}/{id}")).await;
        }
    }
    for f in ids.newsfeeds.iter().take(2) {
        h.get(&format!("/news/newsfeeds/{f}/items")).await;
    }
    h.get("/segments?include_count=true").await;
    h.get("/data_attributes?model=contact").await;
    h.get("/data_attributes?model=company").await;
    h.get("/data_attributes?model=conversation").await;
    h.get("/articles/search?phrase=help").await;
    if let Some(c) = ids.calls.first() {
        h.get(&format!("/calls/{c}/transcript")).await;
        h.get(&format!("/calls/{c}/recording")).await;
    }
    h.get("/internal_articles/search?folder_id=1").await;
    if !ids.conversations.is_empty() {
        let some: Vec<&String> = ids.conversations.iter().take(3).collect();
        h.post("/calls/search", json!({ "conversation_ids": some }))
            .await;
    }
    h.get(&format!("/events?type=user&intercom_user_id={contact}"))
        .await;
    h.get(&format!(
        "/events?type=user&intercom_user_id={contact}&summary=true"
    ))
    .await;
    h.get("/visitors?user_id=missing-visitor").await;
    // Visitors have no list endpoint: take a seeded one from the emulator's state.
    if let Some(user_id) = visitor_user_ids(h).first() {
        h.get(&format!("/visitors?user_id={user_id}")).await;
    }
}

/// `user_id`s of the seeded visitors that are not converted yet.
fn visitor_user_ids(h: &Harness) -> Vec<String> {
    h.emulator
        .state
        .snapshot("visitors")
        .iter()
        .filter_map(|v| v["user_id"].as_str().map(String::from))
        .collect()
}

/// Writes: create what is needed, update it, and delete only what the test created.
async fn exercise_writes(h: &mut Harness) {
    let ids = discover(h).await;
    let admin = first(&ids.admins);
    let admin_num: Value = admin
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(admin.clone()));
    let tag = first(&ids.tags);
    let user = first(&ids.users);
    let lead = first(&ids.leads);

    // Contacts.
    let created = h
        .post(
            "/contacts",
            json!({"role": "user", "email": "spec.fidelity@example.com", "name": "Spec Fidelity",
                   "external_id": "spec-fidelity-1"}),
        )
        .await;
    let c = created.id().unwrap_or_else(|| user.clone());
    h.put(
        &format!("/contacts/{c}"),
        json!({"name": "Spec Fidelity 2", "phone": "+15550100"}),
    )
    .await;
    h.post(&format!("/contacts/{c}/tags"), json!({"id": tag}))
        .await;
    h.delete(&format!("/contacts/{c}/tags/{tag}"), None).await;
    let company = first(&ids.companies);
    h.post(&format!("/contacts/{c}/companies"), json!({"id": company}))
        .await;
    h.get(&format!("/contacts/{c}/companies")).await;
    h.delete(&format!("/contacts/{c}/companies/{company}"), None)
        .await;
    if let Some(s) = ids.subscription_types.first() {
        h.post(
            &format!("/contacts/{c}/subscriptions"),
            json!({"id": s, "consent_type": "opt_in"}),
        )
        .await;
        h.delete(&format!("/contacts/{c}/subscriptions/{s}"), None)
            .await;
    }
    h.post(
        &format!("/contacts/{c}/notes"),
        json!({"body": "Spec note", "admin_id": admin}),
    )
    .await;
    h.post(&format!("/contacts/{c}/archive"), json!({})).await;
    h.post(&format!("/contacts/{c}/unarchive"), json!({})).await;
    let lead_made = h
        .post("/contacts", json!({"role": "lead", "name": "Spec Lead"}))
        .await;
    if let Some(l) = lead_made.id() {
        h.post("/contacts/merge", json!({"from": l, "into": c}))
            .await;
    }

    // Companies.
    let made = h
        .post(
            "/companies",
            json!({"company_id": "spec-fidelity-co", "name": "Spec Co", "size": 3, "plan": "pro",
                   "monthly_spend": 10}),
        )
        .await;
    let co = made.id().unwrap_or_else(|| company.clone());
    h.put(&format!("/companies/{co}"), json!({"name": "Spec Co 2"}))
        .await;

    // Tags.
    let made = h.post("/tags", json!({"name": "spec-fidelity"})).await;
    let new_tag = made.id().unwrap_or_else(|| tag.clone());
    h.post(
        "/tags",
        json!({"id": new_tag, "name": "spec-fidelity-renamed"}),
    )
    .await;
    h.post(
        "/tags",
        json!({"name": "spec-fidelity-renamed", "companies": [{"id": co}]}),
    )
    .await;
    h.post(
        "/tags",
        json!({"name": "spec-fidelity-renamed", "companies": [{"id": co, "untag": true}]}),
    )
    .await;
    h.post(
        "/tags",
        json!({"name": "spec-fidelity-renamed", "users": [{"id": c}]}),
    )
    .await;

    // Conversations.
    let message = h
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": user}, "body": "Hello from the spec test"}),
        )
        .await;
    let conv = id_of(&message.body["conversation_id"]).unwrap_or_else(|| first(&ids.conversations));
    h.put(
        &format!("/conversations/{conv}"),
        json!({"read": true, "title": "Spec title"}),
    )
    .await;
    h.post(
        &format!("/conversations/{conv}/reply"),
        json!({"type": "admin", "admin_id": admin, "message_type": "comment", "body": "Admin reply"}),
    )
    .await;
    h.post(
        &format!("/conversations/{conv}/reply"),
        json!({"type": "user", "intercom_user_id": user, "message_type": "comment", "body": "Thanks"}),
    )
    .await;
    for part in [
        json!({"message_type": "assignment", "type": "admin", "admin_id": admin, "assignee_id": admin}),
        json!({"message_type": "snoozed", "admin_id": admin, "snoozed_until": 4_102_444_800_i64}),
        json!({"message_type": "open", "admin_id": admin}),
        json!({"message_type": "close", "type": "admin", "admin_id": admin, "body": "Bye"}),
    ] {
        h.post(&format!("/conversations/{conv}/parts"), part).await;
    }
    h.post(
        &format!("/conversations/{conv}/tags"),
        json!({"id": tag, "admin_id": admin}),
    )
    .await;
    h.delete(
        &format!("/conversations/{conv}/tags/{tag}"),
        Some(json!({"admin_id": admin})),
    )
    .await;
    h.post(
        &format!("/conversations/{conv}/customers"),
        json!({"admin_id": admin, "customer": {"intercom_user_id": lead}}),
    )
    .await;
    h.delete(
        &format!("/conversations/{conv}/customers/{lead}"),
        Some(json!({"admin_id": admin})),
    )
    .await;
    let full = h.get(&format!("/conversations/{conv}")).await;
    let part_id = full.body["conversation_parts"]["conversation_parts"]
        .as_array()
        .and_then(|parts| {
            parts
                .iter()
                .find(|p| p["body"].is_string())
                .and_then(|p| id_of(&p["id"]))
        });
    if let Some(part) = part_id {
        h.post(
            "/conversations/redact",
            json!({"type": "conversation_part", "conversation_id": conv,
                   "conversation_part_id": part}),
        )
        .await;
    }
    h.post(
        "/messages",
        json!({"from": {"type": "admin", "id": admin_num}, "to": {"type": "user", "id": user},
               "message_type": "inapp", "body": "Outbound"}),
    )
    .await;
    h.post(
        "/messages",
        json!({"from": {"type": "admin", "id": admin_num}, "to": {"type": "user", "id": user},
               "message_type": "email", "subject": "Hi", "template": "plain", "body": "Mail"}),
    )
    .await;
    // Variants whose answers carry other shapes: a quick reply (part metadata), a contact
    // reply to their latest conversation, a message that opens a conversation at once.
    h.post(
        &format!("/conversations/{conv}/reply"),
        json!({"type": "admin", "admin_id": admin, "message_type": "quick_reply",
               "reply_options": [{"text": "Yes", "uuid": "8c2f1e7a-0b1d-4c55-9d5e-2f0a3c4b5d6e"}]}),
    )
    .await;
    h.post(
        "/conversations/last/reply",
        json!({"type": "user", "intercom_user_id": user, "message_type": "comment", "body": "Me again"}),
    )
    .await;
    h.post(
        "/messages",
        json!({"from": {"type": "admin", "id": admin_num}, "to": [{"type": "user", "id": user}],
               "message_type": "in_app", "body": "Outbound with a conversation",
               "create_conversation_without_contact_reply": true}),
    )
    .await;

    // Tickets and their types.
    let tt = h
        .post(
            "/ticket_types",
            json!({"name": "Spec type", "description": "made by the spec test",
                   "category": "Customer", "icon": "🎟️"}),
        )
        .await;
    let tt_id = tt.id().unwrap_or_else(|| first(&ids.ticket_types));
    h.put(
        &format!("/ticket_types/{tt_id}"),
        json!({"description": "still the spec test"}),
    )
    .await;
    h.get(&format!("/ticket_types/{tt_id}")).await;
    let attr = h
        .post(
            &format!("/ticket_types/{tt_id}/attributes"),
            json!({"name": "Spec attr", "description": "an attribute", "data_type": "string"}),
        )
        .await;
    if let Some(a) = attr.id() {
        h.put(
            &format!("/ticket_types/{tt_id}/attributes/{a}"),
            json!({"description": "changed"}),
        )
        .await;
    }
    let ticket = h
        .post(
            "/tickets",
            json!({"ticket_type_id": tt_id, "contacts": [{"id": user}],
                   "ticket_attributes": {"_default_title_": "Spec ticket",
                                         "_default_description_": "made by the spec test"}}),
        )
        .await;
    let t = ticket.id().unwrap_or_else(|| first(&ids.tickets));
    h.get(&format!("/tickets/{t}")).await;
    let mut update = json!({"open": true, "is_shared": true, "admin_id": admin_num});
    if let Some(s) = ids.ticket_states.first() {
        update["ticket_state_id"] = json!(s);
    }
    h.put(&format!("/tickets/{t}"), update).await;
    h.put(
        &format!("/tickets/{t}"),
        json!({"assignee_id": admin, "admin_id": admin_num, "open": false}),
    )
    .await;
    h.post(
        &format!("/tickets/{t}/reply"),
        json!({"type": "admin", "admin_id": admin, "message_type": "note", "body": "Note"}),
    )
    .await;
    h.post(
        &format!("/tickets/{t}/reply"),
        json!({"type": "user", "intercom_user_id": user, "message_type": "comment", "body": "Thanks"}),
    )
    .await;
    h.post(
        &format!("/tickets/{t}/tags"),
        json!({"id": tag, "admin_id": admin}),
    )
    .await;
    h.delete(
        &format!("/tickets/{t}/tags/{tag}"),
        Some(json!({"admin_id": admin})),
    )
    .await;
    let job = h
        .post(
            "/tickets/enqueue",
            json!({"ticket_type_id": tt_id, "contacts": [{"id": user}],
                   "ticket_attributes": {"_default_title_": "Queued"}}),
        )
        .await;
    if let Some(j) = job.id() {
        h.get(&format!("/jobs/status/{j}")).await;
    }
    let conv2 = h
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": user}, "body": "Please convert me"}),
        )
        .await;
    if let Some(cv) = id_of(&conv2.body["conversation_id"]) {
        h.post(
            &format!("/conversations/{cv}/convert"),
            json!({"ticket_type_id": tt_id}),
        )
        .await;
    }

    // Data attributes and events.
    let da = h
        .post(
            "/data_attributes",
            json!({"name": "spec_fidelity_attr", "model": "contact", "data_type": "string"}),
        )
        .await;
    if let Some(d) = da.id() {
        h.put(
            &format!("/data_attributes/{d}"),
            json!({"description": "changed", "archived": false}),
        )
        .await;
    }
    h.post(
        "/events",
        json!({"event_name": "spec-tested", "created_at": 1_700_000_000, "id": user,
               "metadata": {"k": "v"}}),
    )
    .await;
    let summary_user = ids.external_ids.first().cloned().unwrap_or_default();
    for user_id in ["missing", summary_user.as_str()] {
        h.post(
            "/events/summaries",
            json!({"user_id": user_id, "event_summaries": {"event_name": "spec-tested",
                   "count": 1, "first": 1_700_000_000, "last": 1_700_000_000}}),
        )
        .await;
    }

    // Admins, visitors.
    h.put(
        &format!("/admins/{admin}/away"),
        json!({"away_mode_enabled": true, "away_mode_reassign": false}),
    )
    .await;
    h.put(
        &format!("/admins/{admin}/away"),
        json!({"away_mode_enabled": false, "away_mode_reassign": false}),
    )
    .await;

    if let Some(user_id) = visitor_user_ids(h).first() {
        h.put(
            "/visitors",
            json!({"user_id": user_id, "name": "Spec Visitor", "custom_attributes": {"k": "v"}}),
        )
        .await;
    }
    h.put("/visitors", json!({"name": "no key"})).await;
    if let Some(user_id) = visitor_user_ids(h).last() {
        h.post(
            "/visitors/convert",
            json!({"type": "user", "visitor": {"user_id": user_id},
                   "user": {"email": "spec.visitor@example.com"}}),
        )
        .await;
    }

    // Fin from outside Intercom, and a phone call deflected to the Messenger.
    let message = json!({"author": "user", "body": "Where is my invoice?",
                         "timestamp": "2026-01-24T10:01:20.000Z"});
    let user = json!({"id": "spec-user", "name": "Spec User"});
    h.post(
        "/fin/start",
        json!({"conversation_id": "spec-fin", "message": message, "user": user}),
    )
    .await;
    h.post(
        "/fin/reply",
        json!({"conversation_id": "spec-fin", "message": message, "user": user}),
    )
    .await;
    h.post(
        "/fin/csat",
        json!({"conversation_id": "spec-fin", "rating": "good", "remark": "Quick"}),
    )
    .await;
    h.post("/phone_call_redirects", json!({"phone": "+353832345678"}))
        .await;
    // Custom object instances: created, found both ways, deleted both ways.
    let order = h
        .post(
            "/custom_object_instances/Order",
            json!({"external_id": "spec-order", "external_created_at": 1_700_000_000,
                   "custom_attributes": {"order_number": "SPEC-1"}}),
        )
        .await;
    h.get("/custom_object_instances/Order?external_id=spec-order")
        .await;
    if let Some(o) = order.id() {
        h.get(&format!("/custom_object_instances/Order/{o}")).await;
        h.delete(&format!("/custom_object_instances/Order/{o}"), None)
            .await;
    }
    h.post(
        "/custom_object_instances/Order",
        json!({"external_id": "spec-order-2"}),
    )
    .await;
    h.delete(
        "/custom_object_instances/Order?external_id=spec-order-2",
        None,
    )
    .await;

    // Exports: jobs started, followed, canceled; the datasets; a workflow.
    let export = h
        .post(
            "/export/content/data",
            json!({"created_at_after": 1_700_000_000, "created_at_before": 1_700_086_400}),
        )
        .await;
    if let Some(job) = export.body["job_identifier"].as_str() {
        h.get(&format!("/export/content/data/{job}")).await;
        h.get(&format!("/download/content/data/{job}")).await;
        h.post(&format!("/export/cancel/{job}"), json!({})).await;
    }
    h.get("/export/reporting_data/get_datasets").await;
    let reporting = h
        .post(
            "/export/reporting_data/enqueue",
            json!({"dataset_id": "conversation", "attribute_ids": ["conversation_id"],
                   "start_time": 1_700_000_000, "end_time": 1_700_086_400}),
        )
        .await;
    if let Some(job) = reporting.body["job_identifier"].as_str() {
        h.get(&format!(
            "/export/reporting_data/{job}?app_id=spec-app&client_id=spec-client"
        ))
        .await;
        h.get(&format!(
            "/download/reporting_data/{job}?app_id=spec-app&job_identifier={job}"
        ))
        .await;
    }
    h.get("/export/workflows/67890").await;
    // Fin Voice: a call registered, then found by each of its keys.
    let voice = h
        .post(
            "/fin_voice/register",
            json!({"phone_number": "+15550209999", "call_id": "spec-voice-1", "source": "five9"}),
        )
        .await;
    if let Some(v) = voice.id() {
        h.get(&format!("/fin_voice/collect/{v}")).await;
    }
    h.get("/fin_voice/external_id/spec-voice-1").await;
    h.get("/fin_voice/phone_number/+15550209999").await;
    let conversation = first(&ids.conversations);
    h.get(&format!("/fin_voice/conversation/{conversation}"))
        .await;

    // Content import sources, their external pages, internal articles.
    h.get("/ai/content_import_sources").await;
    h.get("/ai/external_pages?per_page=2").await;
    h.get("/internal_articles").await;
    let source = h
        .post(
            "/ai/content_import_sources",
            json!({"sync_behavior": "api", "url": "https://spec.example.com/docs"}),
        )
        .await;
    if let Some(s) = source.id() {
        h.get(&format!("/ai/content_import_sources/{s}")).await;
        let page = h
            .post(
                "/ai/external_pages",
                json!({"title": "Spec page", "html": "<p>x</p>", "locale": "en",
                       "source_id": s.parse::<i64>().unwrap_or_default(), "external_id": "spec-1"}),
            )
            .await;
        if let Some(p) = page.id() {
            h.get(&format!("/ai/external_pages/{p}")).await;
            h.put(
                &format!("/ai/external_pages/{p}"),
                json!({"title": "Spec page 2", "html": "<p>y</p>", "url": "https://spec.example.com/docs/1",
                       "locale": "en", "source_id": s.parse::<i64>().unwrap_or_default(),
                       "fin_availability": false}),
            )
            .await;
            h.delete(&format!("/ai/external_pages/{p}"), None).await;
        }
        h.put(
            &format!("/ai/content_import_sources/{s}"),
            json!({"sync_behavior": "api", "url": "https://spec.example.com/docs", "status": "deactivated"}),
        )
        .await;
        h.delete(&format!("/ai/content_import_sources/{s}"), None)
            .await;
    }
    let internal = h
        .post(
            "/internal_articles",
            json!({"title": "Spec internal", "body": "<p>b</p>", "owner_id": admin_num, "author_id": admin_num}),
        )
        .await;
    if let Some(i) = internal.id() {
        h.get(&format!("/internal_articles/{i}")).await;
        h.put(
            &format!("/internal_articles/{i}"),
            json!({"body": "<p>c</p>"}),
        )
        .await;
        h.delete(&format!("/internal_articles/{i}"), None).await;
    }

    // Help center and news.
    let article = h
        .post(
            "/articles",
            json!({"title": "Spec article", "author_id": admin_num, "body": "<p>Body</p>",
                   "state": "draft"}),
        )
        .await;
    if let Some(a) = article.id() {
        h.put(
            &format!("/articles/{a}"),
            json!({"title": "Spec article 2"}),
        )
        .await;
        h.delete(&format!("/articles/{a}"), None).await;
    }
    let collection = h
        .post(
            "/help_center/collections",
            json!({"name": "Spec collection"}),
        )
        .await;
    if let Some(col) = collection.id() {
        h.put(
            &format!("/help_center/collections/{col}"),
            json!({"name": "Spec collection 2"}),
        )
        .await;
        h.delete(&format!("/help_center/collections/{col}"), None)
            .await;
    }
    let news = h
        .post(
            "/news/news_items",
            json!({"title": "Spec news", "sender_id": admin_num, "body": "<p>News</p>",
                   "state": "draft"}),
        )
        .await;
    if let Some(n) = news.id() {
        h.put(
            &format!("/news/news_items/{n}"),
            // `news_item_request` requires both on update as well.
            json!({"title": "Spec news 2", "sender_id": admin_num}),
        )
        .await;
        h.delete(&format!("/news/news_items/{n}"), None).await;
    }

    // Deletes of objects this test created, last.
    h.delete(&format!("/tickets/{t}"), None).await;
    h.delete(&format!("/conversations/{conv}"), None).await;
    h.delete(&format!("/tags/{new_tag}"), None).await;
    h.delete(&format!("/companies/{co}"), None).await;
    let blocked = h
        .post(
            "/contacts",
            json!({"role": "user", "email": "spec.block@example.com"}),
        )
        .await;
    if let Some(b) = blocked.id() {
        h.post(&format!("/contacts/{b}/block"), json!({})).await;
    }
    h.delete(&format!("/contacts/{c}"), None).await;
}

/// Any route the scripted steps did not reach: one best-effort request with ids substituted by
/// the collection named in the preceding path segment.
async fn exercise_fallback(h: &mut Harness) {
    let pending: Vec<(String, String)> = h
        .hits
        .iter()
        .filter(|(_, (n, _))| *n == 0)
        .filter_map(|(k, _)| {
            let (m, t) = k.split_once(' ')?;
            Some((m.to_string(), t.to_string()))
        })
        .collect();
    if pending.is_empty() {
        return;
    }
    let ids = discover(h).await;
    for (method, template) in pending {
        let mut path = String::new();
        let mut previous = "";
        for seg in template.trim_start_matches('/').split('/') {
            path.push('/');
            if seg.starts_with('{') {
                let pool = match previous {
                    "contacts" | "customers" => &ids.contacts,
                    "companies" => &ids.companies,
                    "conversations" => &ids.conversations,
                    "tickets" => &ids.tickets,
                    "tags" => &ids.tags,
                    "admins" => &ids.admins,
                    "teams" => &ids.teams,
                    "segments" => &ids.segments,
                    "notes" => &ids.notes,
                    "ticket_types" => &ids.ticket_types,
                    "attributes" => &ids.ticket_type_attributes,
                    "articles" => &ids.articles,
                    "collections" => &ids.collections,
                    "help_centers" => &ids.help_centers,
                    "news_items" => &ids.news_items,
                    "newsfeeds" => &ids.newsfeeds,
                    "brands" => &ids.brands,
                    "emails" => &ids.emails,
                    "data_attributes" => &ids.data_attributes,
                    "subscriptions" => &ids.subscription_types,
                    "calls" => &ids.calls,
                    "find_by_external_id" => &ids.external_ids,
                    _ => &ids.contacts,
                };
                path.push_str(&first(pool));
            } else {
                path.push_str(seg);
            }
            previous = seg;
        }
        let body = (method != "GET").then(|| json!({}));
        h.call(&method, &path, body).await;
    }
}

/// The spec's error envelope, checked both by schema and by its discriminator.
fn assert_error_list(spec: &Spec, what: &str, reply: &Reply) {
    let schema = json!({"$ref": "#/components/schemas/error"});
    if let Err(invalid) = spec.validate(&schema, &reply.body) {
        panic!(
            "{what}: body is not an error.list:\n{invalid}\nbody: {}",
            reply.body
        );
    }
    assert_eq!(
        reply.body["type"], "error.list",
        "{what}: type discriminator, body {}",
        reply.body
    );
}

#[tokio::test]
async fn error_paths_return_error_lists() {
    let mut h = Harness::start().await;
    let spec = h.spec;

    // 401: bad token, on a few routes that document 401.
    for path in ["/contacts", "/admins", "/tags"] {
        let reply = h.raw("GET", path, None, "not-a-valid-token").await;
        assert_eq!(
            reply.status, 401,
            "GET {path} with a bad token: {}",
            reply.body
        );
        assert_error_list(spec, &format!("GET {path} 401"), &reply);
        spec.validate_response("GET", path, 401, &reply.body)
            .unwrap_or_else(|e| panic!("GET {path} 401 vs spec:\n{e}"));
    }
    let reply = h
        .raw(
            "POST",
            "/contacts/search",
            Some(&json!({"query": {"field": "role", "operator": "=", "value": "user"}})),
            "",
        )
        .await;
    assert_eq!(
        reply.status, 401,
        "search with an empty token: {}",
        reply.body
    );
    assert_error_list(spec, "POST /contacts/search 401", &reply);

    // 404: unknown ids. Where the spec documents 404 for the operation, validate against it;
    // otherwise against the shared error schema.
    for path in [
        "/contacts/000000000000000000000000",
        "/companies/000000000000000000000000",
        "/conversations/999999999999",
        "/admins/999999999",
        "/tags/999999999",
    ] {
        if !h.serves(
            "GET",
            &path
                .rsplit_once('/')
                .map(|(p, _)| format!("{p}/{{id}}"))
                .unwrap_or_default(),
        ) {
            continue;
        }
        let reply = h.get(path).await;
        assert_eq!(reply.status, 404, "GET {path}: {}", reply.body);
        assert_error_list(spec, &format!("GET {path} 404"), &reply);
        if spec
            .operation("GET", path)
            .and_then(|op| op.response_schema(404))
            .is_some()
        {
            spec.validate_response("GET", path, 404, &reply.body)
                .unwrap_or_else(|e| panic!("GET {path} 404 vs spec:\n{e}"));
        }
    }

    // 400: three levels of nested groups (the limit is two).
    let too_deep = json!({"query": {"operator": "AND", "value": [
        {"operator": "OR", "value": [
            {"operator": "AND", "value": [
                {"field": "name", "operator": "=", "value": "x"}]}]}]}});
    for path in [
        "/contacts/search",
        "/conversations/search",
        "/tickets/search",
    ] {
        if !h.serves("POST", path) {
            continue;
        }
        let reply = h.post(path, too_deep.clone()).await;
        assert_eq!(
            reply.status, 400,
            "POST {path} nested 3 deep: {}",
            reply.body
        );
        assert_error_list(spec, &format!("POST {path} 400"), &reply);
    }
    // Two levels are fine.
    let two_levels = json!({"query": {"operator": "AND", "value": [
        {"operator": "OR", "value": [{"field": "name", "operator": "=", "value": "x"}]}]}});
    let reply = h.post("/contacts/search", two_levels).await;
    assert!(reply.ok(), "two levels must be accepted: {}", reply.body);
}

#[test]
fn violations_are_grouped_across_items() {
    assert_eq!(
        normalize("$.data[27].email: expected string, got null (not nullable)"),
        "$.data[*].email: expected string, got null"
    );
    assert_eq!(
        normalize("$.a[1].b[22][\"x y\"]: expected one of [string | integer], got boolean true"),
        "$.a[*].b[*][\"x y\"]: expected one of [string | integer], got boolean"
    );
    assert_eq!(
        normalize("$: missing required property `type`"),
        "$: missing required property `type`"
    );
}
