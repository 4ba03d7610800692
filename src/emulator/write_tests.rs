//! Tests of the write routes (docs/intercom-notes.md, "Writes") over HTTP: validation answers, that
//! a rejected request leaves the store unchanged, and that writes show in later reads.

use serde_json::{Value, json};

use super::tests::{Client, assert_error, start};
use super::*;

/// A running emulator, its client, and a few seeded ids.
struct World {
    emu: RunningEmulator,
    c: Client,
    user: String,
    lead: String,
    admin: String,
}

async fn world() -> World {
    let emu = start(EmulatorConfig::default()).await;
    let c = Client::new(&emu);
    let contacts = emu.state.snapshot("contacts");
    let id_of = |role: &str| {
        contacts
            .iter()
            .find(|x| x["role"] == role)
            .and_then(|x| x["id"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let admin = emu.state.snapshot("admins")[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    World {
        user: id_of("user"),
        lead: id_of("lead"),
        admin,
        c,
        emu,
    }
}

impl World {
    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.c.get(path).await;
        (status, body)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.c.send("POST", path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.c.send("PUT", path, Some(body)).await
    }

    async fn delete(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.c.send("DELETE", path, body).await
    }

    async fn contact_total(&self) -> u64 {
        self.get("/contacts").await.1["total_count"]
            .as_u64()
            .unwrap_or(0)
    }

    async fn search_contacts(&self, query: Value) -> Vec<String> {
        let (status, body) = self
            .post(
                "/contacts/search",
                json!({"query": query, "pagination": {"per_page": 150}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        ids(&body["data"])
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["id"].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn creating_a_contact_validates_then_shows_everywhere() {
    let w = world().await;
    let before = w.contact_total().await;
    let generation = w.emu.state.store().generation;

    // Rejected bodies: nothing changes.
    for (body, status, code) in [
        (json!({"name": "Nobody"}), 400, "parameter_not_found"),
        (
            json!({"email": "a@b.example", "bogus": 1}),
            400,
            "bad_request",
        ),
        (json!({"email": 42}), 400, "parameter_invalid"),
        (
            json!({"role": "admin", "email": "x@y.example"}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"email": "x@y.example", "custom_attributes": {"no_such": 1}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"email": "x@y.example", "custom_attributes": {"seats": "many"}}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"email": "x@y.example", "owner_id": 1}),
            400,
            "parameter_invalid",
        ),
        (json!("just a string"), 400, "parameter_invalid"),
    ] {
        let (s, b) = w.post("/contacts", body.clone()).await;
        assert_eq!(s, status, "{body} -> {b}");
        assert_error(&b, code);
    }
    assert_eq!(w.c.send_raw("POST", "/contacts", "{not json").await, 400);
    assert_eq!(w.contact_total().await, before, "store unchanged");
    assert_eq!(
        w.emu.state.store().generation,
        generation,
        "no write happened"
    );

    let (status, made) = w
        .post(
            "/contacts",
            json!({"email": "New.Person@Example.com", "name": "New Person",
                   "external_id": "ext-new-1", "custom_attributes": {"seats": 7, "plan_tier": "pro"}}),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let id = made["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 24, "24-hex id like the seeded ones");
    assert!(id.chars().all(|ch| ch.is_ascii_hexdigit()));
    assert_eq!(made["role"], "user", "role defaults to user");
    assert_eq!(made["custom_attributes"]["seats"], 7);
    let now = now_secs() as i64;
    let created = made["created_at"].as_i64().unwrap_or_default();
    assert!((now - created).abs() < 60, "created_at is now");
    assert_eq!(made["updated_at"], made["created_at"]);

    assert_eq!(w.contact_total().await, before + 1);
    let (status, got) = w.get(&format!("/contacts/{id}")).await;
    assert_eq!((status, &got), (200, &made));
    let (status, got) = w.get("/contacts/find_by_external_id/ext-new-1").await;
    assert_eq!((status, got["id"].as_str()), (200, Some(id.as_str())));
    let found = w
        .search_contacts(json!({"field": "custom_attributes.seats", "operator": "=", "value": 7}))
        .await;
    assert!(found.contains(&id), "new contact is searchable");
    // The last page of the list ends with the new contact (ids sort after the seed's).
    let all = w.emu.state.snapshot("contacts");
    assert_eq!(all.last().and_then(|c| c["id"].as_str()), Some(id.as_str()));

    // Duplicates: 409 with the existing id; leads may share a user's email.
    let (status, body) = w
        .post("/contacts", json!({"email": "new.person@example.com"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "conflict");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&id)
    );
    let (status, body) = w
        .post(
            "/contacts",
            json!({"role": "lead", "external_id": "ext-new-1"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = w
        .post(
            "/contacts",
            json!({"role": "lead", "email": "new.person@example.com"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Update: partial, `null` clears, search sees the change at once.
    let (status, body) = w
        .put(
            &format!("/contacts/{id}"),
            json!({"name": "Renamed Person", "phone": null, "custom_attributes": {"seats": null},
                   "avatar": "https://example.com/me.png"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Renamed Person");
    assert_eq!(body["avatar"]["image_url"], "https://example.com/me.png");
    assert!(body["custom_attributes"].get("seats").is_none());
    assert_eq!(body["email"], "New.Person@Example.com", "untouched");
    let found = w
        .search_contacts(json!({"field": "name", "operator": "=", "value": "Renamed Person"}))
        .await;
    assert_eq!(found, vec![id.clone()]);
    let (status, body) = w
        .put("/contacts/000000000000000000000000", json!({"name": "x"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["message"], "User Not Found");
}

#[tokio::test]
async fn archived_and_deleted_contacts_leave_lists_and_search() {
    let w = world().await;
    let user = w.user.clone();
    let before = w.contact_total().await;
    let by_id = json!({"field": "id", "operator": "=", "value": user});

    let (status, body) = w
        .post(&format!("/contacts/{user}/archive"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["archived"], true);
    assert_eq!(body["type"], "contact");
    assert_eq!(w.contact_total().await, before - 1);
    assert_eq!(w.get(&format!("/contacts/{user}")).await.0, 404);
    assert!(w.search_contacts(by_id.clone()).await.is_empty());
    let mut listed = Vec::new();
    let mut path = "/contacts?per_page=150".to_string();
    loop {
        let (_, body) = w.get(&path).await;
        listed.extend(ids(&body["data"]));
        match body["pages"]["next"]["starting_after"].as_str() {
            Some(cursor) => path = format!("/contacts?per_page=150&starting_after={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed.len() as u64, before - 1);
    assert!(!listed.contains(&user));

    let (status, body) = w
        .post(&format!("/contacts/{user}/unarchive"), json!({}))
        .await;
    assert_eq!((status, body["archived"].clone()), (200, json!(false)));
    assert_eq!(w.contact_total().await, before);
    assert_eq!(w.search_contacts(by_id.clone()).await, vec![user.clone()]);

    let (status, body) = w.delete(&format!("/contacts/{user}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], true);
    assert_eq!(w.get(&format!("/contacts/{user}")).await.0, 404);
    assert_eq!(
        w.post(&format!("/contacts/{user}/unarchive"), json!({}))
            .await
            .0,
        404
    );
    assert!(w.search_contacts(by_id).await.is_empty());
    assert_eq!(w.contact_total().await, before - 1);
}

#[tokio::test]
async fn blocking_archives_the_contacts_conversations() {
    let w = world().await;
    let convs = w.emu.state.snapshot("conversations");
    let contact = convs[0]["contacts"]["contacts"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let conv = convs[0]["id"].as_str().unwrap_or_default().to_string();
    let (status, body) = w
        .post(&format!("/contacts/{contact}/block"), json!({}))
        .await;
    assert_eq!(
        (status, body["blocked"].clone()),
        (200, json!(true)),
        "{body}"
    );
    assert_eq!(w.get(&format!("/conversations/{conv}")).await.0, 404);
    let (_, found) = w
        .post(
            "/conversations/search",
            json!({"query": {"field": "id", "operator": "=", "value": conv}}),
        )
        .await;
    assert_eq!(found["total_count"], 0);
}

#[tokio::test]
async fn tags_companies_subscriptions_and_notes_attach_to_contacts() {
    let w = world().await;
    let user = w.user.clone();
    // The first contact of the seed carries tags 0..12; take one it does not have.
    let tag = w.emu.state.snapshot("tags")[13]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let (status, body) = w
        .post(&format!("/contacts/{user}/tags"), json!({"id": tag}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], tag.as_str());
    assert!(body["applied_at"].is_i64());
    assert_eq!(body["applied_by"]["id"], w.admin.as_str());
    let (_, tags) = w.get(&format!("/contacts/{user}/tags")).await;
    assert!(ids(&tags["data"]).contains(&tag));
    let tagged = w
        .search_contacts(json!({"field": "tag_id", "operator": "=", "value": tag}))
        .await;
    assert!(tagged.contains(&user));
    let (status, body) = w
        .post(&format!("/contacts/{user}/tags"), json!({"id": "999"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["message"], "Resource Not Found");
    let (status, body) = w
        .post(
            "/contacts/000000000000000000000000/tags",
            json!({"id": tag}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (404, json!("User Not Found"))
    );
    let (status, _) = w.post(&format!("/contacts/{user}/tags"), json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = w
        .delete(&format!("/contacts/{user}/tags/{tag}"), None)
        .await;
    assert_eq!(status, 200);
    let (_, tags) = w.get(&format!("/contacts/{user}/tags")).await;
    assert!(!ids(&tags["data"]).contains(&tag));

    // A company without contacts is invisible in lists until one is attached.
    let hidden = w
        .emu
        .state
        .snapshot("companies")
        .into_iter()
        .find(|c| c["user_count"] == 0)
        .and_then(|c| c["id"].as_str().map(String::from))
        .unwrap_or_default();
    let listed = |body: &Value| ids(&body["data"]).contains(&hidden);
    assert!(!listed(&w.get("/companies?per_page=150").await.1));
    let (status, body) = w
        .post(&format!("/contacts/{user}/companies"), json!({}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["message"], "company not specified");
    let (status, body) = w
        .post(
            &format!("/contacts/{user}/companies"),
            json!({"id": "nope"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("company_not_found"))
    );
    let (status, body) = w
        .post(
            &format!("/contacts/{user}/companies"),
            json!({"id": hidden}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_count"], 1);
    assert!(listed(&w.get("/companies?per_page=150").await.1));
    let (_, members) = w.get(&format!("/companies/{hidden}/contacts")).await;
    assert_eq!(ids(&members["data"]), vec![user.clone()]);
    let (status, _) = w
        .delete(&format!("/contacts/{user}/companies/{hidden}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(!listed(&w.get("/companies?per_page=150").await.1));

    // Subscriptions: explicit choices only.
    let (_, types) = w.get("/subscription_types").await;
    let sub = ids(&types["data"])[0].clone();
    let (status, body) = w
        .post(
            &format!("/contacts/{user}/subscriptions"),
            json!({"id": sub, "consent_type": "maybe"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = w
        .post(
            &format!("/contacts/{user}/subscriptions"),
            json!({"id": sub, "consent_type": "opt_out"}),
        )
        .await;
    assert_eq!(
        (status, body["type"].clone()),
        (200, json!("subscription")),
        "{body}"
    );
    let (_, subs) = w.get(&format!("/contacts/{user}/subscriptions")).await;
    assert_eq!(ids(&subs["data"]), vec![sub.clone()]);
    let (_, contact) = w.get(&format!("/contacts/{user}")).await;
    assert_eq!(contact["opted_out_subscription_types"]["total_count"], 1);
    w.delete(&format!("/contacts/{user}/subscriptions/{sub}"), None)
        .await;
    let (_, subs) = w.get(&format!("/contacts/{user}/subscriptions")).await;
    assert!(ids(&subs["data"]).is_empty());

    // Notes: body required, wrapped in <p>, listed under the contact.
    let (status, _) = w
        .post(
            &format!("/contacts/{user}/notes"),
            json!({"admin_id": w.admin}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, note) = w
        .post(
            &format!("/contacts/{user}/notes"),
            json!({"body": "Called today"}),
        )
        .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["body"], "<p>Called today</p>");
    let (_, notes) = w.get(&format!("/contacts/{user}/notes?per_page=150")).await;
    assert!(ids(&notes["data"]).contains(&note["id"].as_str().unwrap_or_default().to_string()));
}

#[tokio::test]
async fn merging_a_lead_moves_it_into_the_user() {
    let w = world().await;
    let (user, lead) = (w.user.clone(), w.lead.clone());
    let (status, _) = w
        .post("/contacts/merge", json!({"from": user, "into": lead}))
        .await;
    assert_eq!(status, 400, "users cannot be merged away");
    let (status, _) = w.post("/contacts/merge", json!({"from": lead})).await;
    assert_eq!(status, 400);
    let tag = w.emu.state.snapshot("tags")[5]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    w.post(&format!("/contacts/{lead}/tags"), json!({"id": tag}))
        .await;
    let (status, body) = w
        .post("/contacts/merge", json!({"from": lead, "into": user}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], user.as_str());
    assert_eq!(w.get(&format!("/contacts/{lead}")).await.0, 404);
    let (_, tags) = w.get(&format!("/contacts/{user}/tags")).await;
    assert!(ids(&tags["data"]).contains(&tag), "tags move to the user");
}

#[tokio::test]
async fn companies_upsert_update_and_delete() {
    let w = world().await;
    let (status, body) = w.post("/companies", json!({"name": "No key"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = w
        .post("/companies", json!({"company_id": "k-1", "test": "x"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["message"], "bad 'test' parameter");
    let (status, made) = w
        .post(
            "/companies",
            json!({"company_id": "k-1", "name": "Kilo", "plan": "Pro", "monthly_spend": 12.9,
                   "custom_attributes": {"founded_year": "1999"}}),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["monthly_spend"], 12, "floats truncated");
    assert_eq!(made["plan"]["name"], "Pro");
    assert_eq!(made["custom_attributes"]["founded_year"], 1999);
    let id = made["id"].as_str().unwrap_or_default().to_string();
    let (status, again) = w
        .post("/companies", json!({"company_id": "k-1", "size": 9}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], id.as_str(), "upsert by company_id");
    assert_eq!(
        (again["size"].clone(), again["name"].clone()),
        (json!(9), json!("Kilo"))
    );
    let (status, body) = w
        .put(&format!("/companies/{id}"), json!({"company_id": "k-2"}))
        .await;
    assert_eq!(status, 400, "company_id never changes: {body}");
    let (status, body) = w
        .put(&format!("/companies/{id}"), json!({"industry": "Space"}))
        .await;
    assert_eq!((status, body["industry"].clone()), (200, json!("Space")));
    let (status, body) = w.get("/companies?company_id=k-1").await;
    assert_eq!((status, body["id"].as_str()), (200, Some(id.as_str())));
    w.post(
        &format!("/contacts/{}/companies", w.user),
        json!({"id": id}),
    )
    .await;
    let (status, body) = w.delete(&format!("/companies/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"id": id, "object": "company", "deleted": true})
    );
    assert_eq!(w.get(&format!("/companies/{id}")).await.0, 404);
    let (_, theirs) = w.get(&format!("/contacts/{}/companies", w.user)).await;
    assert!(!ids(&theirs["data"]).contains(&id), "contacts are detached");
    assert_eq!(
        w.get(&format!("/contacts/{}", w.user)).await.0,
        200,
        "contacts survive"
    );
}

#[tokio::test]
async fn tag_multiplexer_creates_renames_and_tags() {
    let w = world().await;
    let (status, body) = w.post("/tags", json!({"test": "invalid"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["message"], "invalid tag parameters");
    let (status, tag) = w.post("/tags", json!({"name": "Fresh"})).await;
    assert_eq!(status, 200, "{tag}");
    let id = tag["id"].as_str().unwrap_or_default().to_string();
    let (_, same) = w.post("/tags", json!({"name": "fresh"})).await;
    assert_eq!(same["id"], id.as_str(), "names are case-insensitive");
    let (_, renamed) = w.post("/tags", json!({"id": id, "name": "Fresher"})).await;
    assert_eq!(renamed["name"], "Fresher");
    let (status, body) = w
        .post(
            "/tags",
            json!({"name": "Fresher", "users": [{"id": "000000000000000000000000"}]}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (404, json!("User Not Found"))
    );
    w.post(
        "/tags",
        json!({"name": "Fresher", "users": [{"id": w.user}]}),
    )
    .await;
    let (_, tags) = w.get(&format!("/contacts/{}/tags", w.user)).await;
    assert!(ids(&tags["data"]).contains(&id));
    let company = w
        .emu
        .state
        .snapshot("companies")
        .into_iter()
        .find(|c| c["user_count"] != 0)
        .and_then(|c| c["company_id"].as_str().map(String::from))
        .unwrap_or_default();
    let (status, _) = w
        .post(
            "/tags",
            json!({"name": "Fresher", "companies": [{"company_id": company}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, tagged) = w.get(&format!("/companies?tag_id={id}")).await;
    assert_eq!(tagged["total_count"], 1);
    w.post(
        "/tags",
        json!({"name": "Fresher", "companies": [{"company_id": company, "untag": true}]}),
    )
    .await;
    let (_, tagged) = w.get(&format!("/companies?tag_id={id}")).await;
    assert_eq!(tagged["total_count"], 0);
    let (status, body) = w.delete(&format!("/tags/{id}"), None).await;
    assert_eq!((status, body), (200, Value::Null), "200 with an empty body");
    assert_eq!(w.get(&format!("/tags/{id}")).await.0, 404);
    let (_, tags) = w.get(&format!("/contacts/{}/tags", w.user)).await;
    assert!(
        !ids(&tags["data"]).contains(&id),
        "deleted tags leave contacts"
    );
}

#[tokio::test]
async fn conversation_replies_and_parts_change_its_state() {
    let w = world().await;
    let admin = w.admin.clone();
    let (status, msg) = w
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": w.user}, "body": "Help please"}),
        )
        .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["type"], "user_message");
    let conv = msg["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/conversations/{conv}");
    let (_, c) = w.get(&path).await;
    assert_eq!(
        (c["state"].clone(), c["read"].clone()),
        (json!("open"), json!(false))
    );
    assert_eq!(c["source"]["body"], "<p>Help please</p>");
    let parts = |c: &Value| c["conversation_parts"]["total_count"].as_u64().unwrap_or(0);

    // Mark read; unknown custom attribute is rejected.
    let (status, c) = w.put(&path, json!({"read": true, "title": "Help"})).await;
    assert_eq!(
        (status, c["read"].clone(), c["title"].clone()),
        (200, json!(true), json!("Help"))
    );
    let (status, body) = w
        .put(&path, json!({"custom_attributes": {"nope": 1}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["message"],
        "Conversation attribute 'nope' does not exist"
    );

    // Replies add parts.
    let (status, c) = w
        .post(
            &format!("{path}/reply"),
            json!({"type": "admin", "admin_id": admin, "message_type": "comment", "body": "On it"}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(parts(&c), 1);
    let last = &c["conversation_parts"]["conversation_parts"][0];
    assert_eq!(
        (last["part_type"].clone(), last["body"].clone()),
        (json!("comment"), json!("<p>On it</p>"))
    );
    assert_eq!(last["author"]["id"], admin.as_str());
    assert!(c["waiting_since"].is_null(), "admin replied");
    let (status, _) = w
        .post(
            &format!("{path}/reply"),
            json!({"type": "admin", "admin_id": admin, "message_type": "shout", "body": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .post(
            &format!("{path}/reply"),
            json!({"type": "admin", "admin_id": admin, "message_type": "quick_reply"}),
        )
        .await;
    assert_eq!(status, 400, "quick replies need reply_options");

    // Snooze needs snoozed_until; a rejected request adds no part.
    let (status, body) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "snoozed", "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "parameter_not_found");
    assert_eq!(parts(&w.get(&path).await.1), 1);
    let (status, c) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "snoozed", "admin_id": admin, "snoozed_until": 4_102_444_800_i64}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        (c["state"].clone(), c["snoozed_until"].clone()),
        (json!("snoozed"), json!(4_102_444_800_i64))
    );
    let (_, c) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "close", "type": "admin", "admin_id": admin}),
        )
        .await;
    assert_eq!(
        (c["state"].clone(), c["open"].clone()),
        (json!("closed"), json!(false))
    );
    assert!(c["snoozed_until"].is_null());
    let (_, found) = w
        .post(
            "/conversations/search",
            json!({"query": {"operator": "AND", "value": [
                {"field": "id", "operator": "=", "value": conv},
                {"field": "state", "operator": "=", "value": "closed"}]}}),
        )
        .await;
    assert_eq!(found["total_count"], 1, "search sees the new state");

    // A contact reply reopens; assignment sets the assignee.
    let (_, c) = w
        .post(
            &format!("{path}/reply"),
            json!({"type": "user", "intercom_user_id": w.user, "message_type": "comment", "body": "Still broken"}),
        )
        .await;
    assert_eq!(c["state"], "open");
    assert_eq!(c["statistics"]["count_reopens"], 1);
    let (status, _) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "assignment", "type": "admin", "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 400, "assignee_id is required");
    let (_, c) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "assignment", "type": "admin", "admin_id": admin, "assignee_id": admin}),
        )
        .await;
    assert_eq!(c["admin_assignee_id"].to_string(), admin);
    let team = w.emu.state.snapshot("teams")[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, c) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team}),
        )
        .await;
    assert_eq!(c["team_assignee_id"].to_string(), team);
    let (status, _) = w
        .post(
            &format!("{path}/parts"),
            json!({"message_type": "open", "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = w
        .post(
            "/conversations/999999999/parts",
            json!({"message_type": "open", "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn conversation_tags_participants_redaction_and_deletion() {
    let w = world().await;
    let admin = w.admin.clone();
    let (_, msg) = w
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": w.user}, "body": "Secret 1234"}),
        )
        .await;
    let conv = msg["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/conversations/{conv}");
    let tag = w.emu.state.snapshot("tags")[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let (status, body) = w
        .post(
            &format!("{path}/tags"),
            json!({"id": tag, "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, c) = w.get(&path).await;
    assert_eq!(ids(&c["tags"]["tags"]), vec![tag.clone()]);
    let (status, body) = w.delete(&format!("{path}/tags/{tag}"), None).await;
    assert_eq!(
        status, 400,
        "DELETE needs a JSON body with admin_id: {body}"
    );
    let (status, _) = w
        .delete(
            &format!("{path}/tags/{tag}"),
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = w
        .delete(
            &format!("{path}/tags/{tag}"),
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("tag_not_found"))
    );

    // Participants: the last one cannot be removed.
    let (status, body) = w
        .delete(
            &format!("{path}/customers/{}", w.user),
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = w
        .post(
            &format!("{path}/customers"),
            json!({"admin_id": admin, "customer": {"email": "brand.new@example.org"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["customers"].as_array().map(Vec::len),
        Some(2),
        "unknown email makes a lead"
    );
    let (status, body) = w
        .delete(
            &format!("{path}/customers/{}", w.user),
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(
        (status, body["customers"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    // Redaction of the source (written by a contact).
    let source = w.get(&path).await.1["source"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, c) = w
        .post(
            "/conversations/redact",
            json!({"type": "source", "conversation_id": conv, "source_id": source}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        (c["source"]["redacted"].clone(), c["source"]["body"].clone()),
        (json!(true), json!(""))
    );
    let (status, body) = w
        .post(
            "/conversations/redact",
            json!({"type": "conversation_part", "conversation_id": conv, "conversation_part_id": "1"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("conversation_part_or_message_not_found"))
    );

    let (status, body) = w.delete(&path, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"id": conv, "object": "conversation", "deleted": true})
    );
    assert_eq!(w.get(&path).await.0, 404);
}

#[tokio::test]
async fn tickets_types_and_attributes() {
    let w = world().await;
    let admin = w.admin.clone();
    let (status, _) = w
        .post("/ticket_types", json!({"description": "no name"}))
        .await;
    assert_eq!(status, 400);
    let (status, ty) = w
        .post(
            "/ticket_types",
            json!({"name": "Returns", "category": "Customer"}),
        )
        .await;
    assert_eq!(status, 200, "{ty}");
    let ty_id = ty["id"].as_str().unwrap_or_default().to_string();
    let defaults: Vec<&str> = ty["ticket_type_attributes"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(defaults, ["_default_title_", "_default_description_"]);
    let (status, _) = w
        .post(
            &format!("/ticket_types/{ty_id}/attributes"),
            json!({"name": "Order", "description": "Order number", "data_type": "money"}),
        )
        .await;
    assert_eq!(status, 400, "unknown data_type");
    let (status, attr) = w
        .post(
            &format!("/ticket_types/{ty_id}/attributes"),
            json!({"name": "Order", "description": "Order number", "data_type": "integer"}),
        )
        .await;
    assert_eq!(status, 200, "{attr}");
    let attr_id = attr["id"].as_str().unwrap_or_default().to_string();
    let (status, attr) = w
        .put(
            &format!("/ticket_types/{ty_id}/attributes/{attr_id}"),
            json!({"required_to_create": true}),
        )
        .await;
    assert_eq!(
        (status, attr["required_to_create"].clone()),
        (200, json!(true))
    );

    let ticket = |attrs: Value| json!({"ticket_type_id": ty_id, "contacts": [{"id": w.user}], "ticket_attributes": attrs});
    let (status, body) = w
        .post("/tickets", ticket(json!({"_default_title_": "Broken"})))
        .await;
    assert_eq!(status, 400, "Order is required now: {body}");
    let (status, _) = w
        .post(
            "/tickets",
            ticket(json!({"_default_title_": "Broken", "Order": "abc"})),
        )
        .await;
    assert_eq!(status, 400, "Order is an integer");
    let (status, _) = w
        .post(
            "/tickets",
            ticket(json!({"_default_title_": "Broken", "Order": 7, "Colour": "red"})),
        )
        .await;
    assert_eq!(status, 400, "unknown attribute");
    let (status, t) = w
        .post(
            "/tickets",
            ticket(json!({"_default_title_": "Broken", "Order": 7})),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let tid = t["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(t["ticket_state"]["category"], "submitted");
    // The new attribute is searchable at once (search schemas are rebuilt on writes).
    let (status, found) = w
        .post(
            "/tickets/search",
            json!({"query": {"field": format!("ticket_attribute.{attr_id}"), "operator": "=", "value": 7}}),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(ids(&found["tickets"]), vec![tid.clone()]);

    let (status, part) = w
        .post(
            &format!("/tickets/{tid}/reply"),
            json!({"type": "admin", "admin_id": admin, "message_type": "note", "body": "Checking"}),
        )
        .await;
    assert_eq!(status, 200, "{part}");
    assert_eq!(
        (part["type"].clone(), part["part_type"].clone()),
        (json!("ticket_part"), json!("note"))
    );
    let (status, body) = w
        .put(&format!("/tickets/{tid}"), json!({"ticket_state_id": "1"}))
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (400, json!("ticket_state_id_invalid"))
    );
    let (status, t) = w
        .put(&format!("/tickets/{tid}"), json!({"open": false}))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (t["open"].clone(), t["ticket_state"]["category"].clone()),
        (json!(false), json!("resolved"))
    );
    let (status, _) = w
        .post(
            &format!("/tickets/{tid}/tags"),
            json!({"id": "8000001", "admin_id": admin}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = w
        .delete(
            &format!("/tickets/{tid}/tags/8000002"),
            Some(json!({"admin_id": admin})),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("tag_not_found"))
    );

    // Conversion needs a Customer ticket type.
    let (_, msg) = w
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": w.user}, "body": "Make me a ticket"}),
        )
        .await;
    let conv = msg["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = w
        .post(
            &format!("/conversations/{conv}/convert"),
            json!({"ticket_type_id": "97"}),
        )
        .await;
    assert_eq!(status, 400, "97 is a Back-office type: {body}");
    let (status, t2) = w
        .post(
            &format!("/conversations/{conv}/convert"),
            json!({"ticket_type_id": "95"}),
        )
        .await;
    assert_eq!(status, 200, "{t2}");
    assert_eq!(t2["linked_objects"]["data"][0]["id"], conv.as_str());

    let (status, body) = w.delete(&format!("/tickets/{tid}"), None).await;
    assert_eq!((status, body["deleted"].clone()), (200, json!(true)));
    assert_eq!(w.get(&format!("/tickets/{tid}")).await.0, 404);
}

#[tokio::test]
async fn data_attributes_are_validated_and_usable() {
    let w = world().await;
    for (body, fragment) in [
        (
            json!({"name": "x y!", "model": "contact", "data_type": "string"}),
            "alphanumeric",
        ),
        (
            json!({"name": "tier2", "model": "conversation", "data_type": "string"}),
            "either contact or company",
        ),
        (
            json!({"name": "tier2", "model": "contact", "data_type": "blob"}),
            "Data Type isn't an option",
        ),
        (
            json!({"name": "tier2", "model": "contact", "data_type": "options", "options": [{"value": "a"}]}),
            "two options",
        ),
        (
            json!({"name": "churn_risk", "model": "contact", "data_type": "string"}),
            "in your company data",
        ),
    ] {
        let (status, b) = w.post("/data_attributes", body.clone()).await;
        assert_eq!(status, 400, "{body} -> {b}");
        let message = b["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(fragment), "{message}");
    }
    let (status, attr) = w
        .post(
            "/data_attributes",
            json!({"name": "Loyalty Level", "model": "contact", "data_type": "options",
                   "options": [{"value": "gold"}, {"value": "silver"}]}),
        )
        .await;
    assert_eq!(status, 200, "{attr}");
    assert_eq!(attr["full_name"], "custom_attributes.Loyalty Level");
    assert_eq!(attr["data_type"], "string");
    let id = attr["id"].as_i64().unwrap_or_default();
    let (status, body) = w
        .put(
            &format!("/contacts/{}", w.user),
            json!({"custom_attributes": {"Loyalty Level": "bronze"}}),
        )
        .await;
    assert_eq!(status, 400, "not an option: {body}");
    let (status, _) = w
        .put(
            &format!("/contacts/{}", w.user),
            json!({"custom_attributes": {"Loyalty Level": "gold"}}),
        )
        .await;
    assert_eq!(status, 200);
    let found = w
        .search_contacts(
            json!({"field": "custom_attributes.Loyalty Level", "operator": "=", "value": "gold"}),
        )
        .await;
    assert_eq!(found, vec![w.user.clone()]);

    let (status, body) = w.put("/data_attributes/1", json!({"archived": true})).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("field_not_found"))
    );
    let (status, body) = w
        .put(
            &format!("/data_attributes/{id}"),
            json!({"data_type": "integer"}),
        )
        .await;
    assert_eq!(status, 400, "data type cannot change: {body}");
    let (status, body) = w
        .put(&format!("/data_attributes/{id}"), json!({"archived": true}))
        .await;
    assert_eq!((status, body["archived"].clone()), (200, json!(true)));
    let (_, list) = w.get("/data_attributes?model=contact").await;
    assert!(
        !list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["id"] == id)
    );
    let (_, list) = w
        .get("/data_attributes?model=contact&include_archived=true")
        .await;
    assert!(
        list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["id"] == id)
    );
}

#[tokio::test]
async fn messages_events_away_mode_and_visitors() {
    let w = world().await;
    let from = json!({"type": "admin", "id": w.admin.parse::<i64>().unwrap_or_default()});
    let to = json!({"type": "user", "id": w.user});
    let (status, body) = w
        .post("/messages", json!({"from": from, "to": to, "message_type": "email", "body": "Hi", "template": "plain"}))
        .await;
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (422, json!("No subject supplied for email message"))
    );
    let (status, body) = w
        .post(
            "/messages",
            json!({"from": from, "to": to, "message_type": "inapp"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["message"].clone()),
        (400, json!("Body is required"))
    );
    let (status, msg) = w
        .post(
            "/messages",
            json!({"from": from, "to": to, "message_type": "in_app", "body": "Hello",
                   "create_conversation_without_contact_reply": true}),
        )
        .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(
        (msg["type"].clone(), msg["message_type"].clone()),
        (json!("admin_message"), json!("inapp"))
    );
    let conv = msg["conversation_id"].as_str().unwrap_or_default();
    assert_eq!(w.get(&format!("/conversations/{conv}")).await.0, 200);

    let event = json!({"event_name": "ordered-item", "created_at": 1_700_000_000, "id": w.user,
                       "metadata": {"item": "book"}});
    let seeded = w.emu.state.snapshot("events").len();
    let (status, body) = w.post("/events", event.clone()).await;
    assert_eq!((status, body), (202, Value::Null), "202 with an empty body");
    w.post("/events", event).await;
    assert_eq!(
        w.emu.state.snapshot("events").len(),
        seeded + 1,
        "duplicates are ignored"
    );
    let (status, _) = w
        .post(
            "/events",
            json!({"event_name": "x", "created_at": 1, "user_id": "nobody"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .post("/events", json!({"event_name": "x", "id": w.user}))
        .await;
    assert_eq!(status, 400, "created_at is required");

    let (status, _) = w
        .put(
            &format!("/admins/{}/away", w.admin),
            json!({"away_mode_enabled": true}),
        )
        .await;
    assert_eq!(status, 400, "away_mode_reassign is required");
    let (status, a) = w
        .put(
            &format!("/admins/{}/away", w.admin),
            json!({"away_mode_enabled": true, "away_mode_reassign": true}),
        )
        .await;
    assert_eq!((status, a["away_mode_enabled"].clone()), (200, json!(true)));
    let (_, a) = w.get(&format!("/admins/{}", w.admin)).await;
    assert_eq!(a["away_mode_reassign"], true);
    let (status, body) = w
        .put(
            "/admins/1/away",
            json!({"away_mode_enabled": true, "away_mode_reassign": true}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (404, json!("admin_not_found"))
    );

    let visitor = w.emu.state.snapshot("visitors")[0]["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, v) = w.get(&format!("/visitors?user_id={visitor}")).await;
    assert_eq!((status, v["type"].clone()), (200, json!("visitor")));
    let (status, contact) = w
        .post(
            "/visitors/convert",
            json!({"type": "user", "visitor": {"user_id": visitor},
                   "user": {"user_id": "visitor-now-user", "email": "was.visitor@example.org"}}),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(
        (contact["role"].clone(), contact["external_id"].clone()),
        (json!("user"), json!("visitor-now-user"))
    );
    assert_eq!(w.get(&format!("/visitors?user_id={visitor}")).await.0, 404);
}

/// Garbage bodies on every write route: always a 4xx `error.list` or a 2xx, never a 5xx,
/// and the server keeps answering.
#[tokio::test]
async fn write_routes_answer_bad_bodies_with_errors() {
    let w = world().await;
    let writes = ROUTES
        .iter()
        .filter(|(m, t)| *m != "GET" && !t.ends_with("/search") && !t.ends_with("/list"));
    for (method, template) in writes {
        let path: String = template
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for body in [
            "{not json",
            "[]",
            "\"text\"",
            "{\"bogus\": {\"deep\": [1]}}",
            "{}",
            "null",
            "12",
        ] {
            let status = w.c.send_raw(method, &path, body).await;
            assert!(
                (200..500).contains(&status),
                "{method} {path} with {body} -> {status}"
            );
        }
    }
    assert_eq!(w.get("/me").await.0, 200);
}
