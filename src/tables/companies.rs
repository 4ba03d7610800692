//! `companies`, and every table whose rows are companies: `contact_companies` (the companies of
//! each contact), `segment_companies`, `tag_companies` (official spec: `GET /companies`,
//! `GET /companies/{id}`, `GET /contacts/{id}/companies`), with writes and actions.

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

/// Columns of a company object. `id_name` and `company_id_name` rename Intercom's `id` and the
/// customer's own `company_id` where a junction table needs `company_id` for the Intercom id.
fn company_columns(id_name: &str, company_id_name: &str) -> Vec<C> {
    vec![
        C::text(id_name, "Intercom id of the company.").at("id"),
        C::text(
            company_id_name,
            "Your id for the company (set at creation, immutable).",
        )
        .at("company_id"),
        C::text("app_id", "Workspace (app) id."),
        C::text("name", "Company name."),
        C::timestamp("remote_created_at", "When you say the company was created."),
        C::timestamp("created_at", "When Intercom created the company."),
        C::timestamp("updated_at", "When the company was last updated."),
        C::timestamp(
            "last_request_at",
            "Last time a member of the company was seen.",
        ),
        C::int("size", "Number of employees."),
        C::text("website", "Website URL."),
        C::text("industry", "Industry."),
        C::float("monthly_spend", "Monthly revenue from this company."),
        C::int("session_count", "Sessions of its members."),
        C::int("user_count", "Number of contacts attached."),
        C::text("plan_id", "Plan id.").at("plan.id"),
        C::text("plan_name", "Plan name.").at("plan.name"),
        C::json("tags", "Tags on the company."),
        C::json("segments", "Segments the company is in."),
        C::json(
            "custom_attributes",
            "Workspace-defined attributes, as a JSON object.",
        ),
    ]
}

/// `companies`: every company that has at least one contact (Intercom lists no others: `GET
/// /companies`).
/// How many companies the paged company lists reach (official spec, `listAllCompanies`: "there
/// is a limit of 10,000 Companies that can be returned"; `scrollOverAllCompanies` reaches the
/// rest).
const LIST_REACH: u64 = 10_000;

pub(super) fn companies() -> TableDef {
    TableDef::new(
        "companies",
        "Companies (only those with at least one contact are listed by Intercom).",
        // The paged list reaches the first 10,000 companies; a workspace with more is read
        // from the scroll (one per app at a time; docs/intercom-notes.md, "Paging").
        Source::List(
            Listing::new("/companies", PageStyle::PageNumber, "data").beyond(
                LIST_REACH,
                Listing::new("/companies/scroll", PageStyle::Scroll, "data"),
            ),
        ),
    )
    .get_by_id("/companies/{id}")
    .custom_attributes("company", false)
    // Your own id is unique (the upsert key), and its lookup answers with one company (`GET
    // /companies?company_id=`). `?name=` is not used: names need not be unique, and that lookup
    // returns one company.
    .lookup("company_id", "/companies?company_id={id}")
    .listed_when_positive("user_count")
    // `ORDER BY last_request_at … LIMIT n` reads the first pages of the list sorted by it
    // (`listAllCompanies`, newest first unless `order=asc`).
    .ordered_by(
        "last_request_at",
        Listing::new("/companies/list", PageStyle::PageNumber, "data").posted(),
        LIST_REACH,
    )
    .columns(company_columns("id", "company_id"))
    .writes(companies_writes())
    .actions(actions::procedures())
}

/// A company list filtered by one tag or segment (`GET /companies?tag_id=…`): a child
/// table of `parent` keyed by `key`, so `WHERE tag_id = 'x'` is one filtered list, and a join
/// from `tags` fetches only the joined tags' companies.
fn filtered_companies(name: &str, description: &str, parent: &str, key: &str) -> TableDef {
    let mut columns = vec![C::parent_key(
        key,
        &format!("Id of the {}.", &parent[..parent.len() - 1]),
    )];
    columns.extend(company_columns("company_id", "external_company_id"));
    TableDef::new(
        name,
        description,
        Source::Children {
            parent_table: parent.into(),
            key_column: key.into(),
            listing: Listing::new(
                &format!("/companies?{key}={{id}}"),
                PageStyle::PageNumber,
                "data",
            ),
        },
    )
    .columns(columns)
}

/// `tag_companies`: the companies carrying each tag.
pub(super) fn tag_companies() -> TableDef {
    filtered_companies(
        "tag_companies",
        "Companies carrying each tag (one row per tag and company; companies with contacts only).",
        "tags",
        "tag_id",
    )
}

/// `segment_companies`: the companies in each segment.
pub(super) fn segment_companies() -> TableDef {
    filtered_companies(
        "segment_companies",
        "Companies in each segment (one row per segment and company; companies with contacts only).",
        "segments",
        "segment_id",
    )
}

/// What INSERT, UPDATE and DELETE on `companies` send.
fn companies_writes() -> TableWrites {
    TableWrites {
        table: "companies",
        insert: Some(
            Write::new("POST", "/companies")
                .fields(COMPANY_CREATE_FIELDS)
                .required(&["company_id"])
                .custom()
                .idempotent(),
        ),
        update: Some(
            Write::new("PUT", "/companies/{id}")
                .fields(COMPANY_FIELDS)
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/companies/{id}").idempotent()),
        key: &["id"],
    }
}

const COMPANY_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("plan_name", "plan"),
    ("size", "size"),
    ("website", "website"),
    ("industry", "industry"),
    ("monthly_spend", "monthly_spend"),
];

const COMPANY_CREATE_FIELDS: &[(&str, &str)] = &[
    ("company_id", "company_id"),
    ("name", "name"),
    ("plan_name", "plan"),
    ("size", "size"),
    ("website", "website"),
    ("industry", "industry"),
    ("monthly_spend", "monthly_spend"),
    ("remote_created_at", "remote_created_at"),
];

/// `contact_companies`: the companies each contact belongs to.
pub(super) fn contact_companies() -> TableDef {
    let mut columns = vec![C::parent_key("contact_id", "Id of the contact.")];
    columns.extend(company_columns("company_id", "external_company_id"));
    TableDef::new(
        "contact_companies",
        "Companies each contact is attached to (one row per contact and company).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            // Schema says `companies`, the spec's example says `data` (official spec:
            // `listCompaniesForAContact`).
            listing: Listing::new("/contacts/{id}/companies", PageStyle::PageNumber, "data")
                .or_items_at("companies"),
        },
    )
    .columns(columns)
    .writes(contact_companies_writes())
    .actions(actions::contact_company_procedures())
}

/// Attaches a contact to a company (body `{id}`); shared by INSERT into `contact_companies`
/// and `AttachContactToCompany`.
const COMPANIES: &str = "/contacts/{contact_id}/companies";
/// Detaches a contact from a company; shared by DELETE and `DetachContactFromCompany`.
const COMPANY: &str = "/contacts/{contact_id}/companies/{company_id}";

/// What INSERT, UPDATE and DELETE on `contact_companies` send.
fn contact_companies_writes() -> TableWrites {
    TableWrites {
        table: "contact_companies",
        insert: Some(
            Write::new("POST", COMPANIES)
                .keys(&[("company_id", "id")])
                .required(&["contact_id", "company_id"])
                .idempotent(),
        ),
        update: None,
        delete: Some(Write::new("DELETE", COMPANY).idempotent()),
        key: &["contact_id", "company_id"],
    }
}

/// Actions on companies and on the contacts they are attached to, as procedures.
mod actions {
    use serde_json::json;

    use serde_json::Value;

    use super::{COMPANIES, COMPANY};
    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, fields, tag_columns};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![tag_company(), untag_company()]
    }

    /// `POST /tags` with `companies` (docs/intercom-notes.md, "Writes"): tags by name, creating the
    /// tag if needed; `untag: true` removes it.
    fn company_tag(name: &'static str, description: &'static str, untag: bool) -> Procedure {
        let procedure = Procedure::new(name, description, "POST", "/tags")
            .param(Param::text("company_id", "Intercom id of the company."))
            .param(Param::text("tag_name", "Name of the tag."))
            .idempotent()
            .columns(tag_columns("company_id"));
        if untag {
            procedure.body(|a| {
                Ok(json!({
                    "name": a.get("tag_name"),
                    "companies": [{"id": a.get("company_id"), "untag": true}]
                }))
            })
        } else {
            procedure.body(|a| {
                Ok(json!({"name": a.get("tag_name"), "companies": [{"id": a.get("company_id")}]}))
            })
        }
    }

    fn tag_company() -> Procedure {
        company_tag(
            "TagCompany",
            "Applies a tag, by name, to a company; Intercom creates the tag if it does not exist.",
            false,
        )
        .example("CALL TagCompany('5f0c0a1b2c3d4e5f60718293', 'VIP')")
    }

    fn untag_company() -> Procedure {
        company_tag(
            "UntagCompany",
            "Removes a tag, by name, from a company.",
            true,
        )
        .example("CALL UntagCompany('5f0c0a1b2c3d4e5f60718293', 'VIP')")
    }

    pub(super) fn contact_company_procedures() -> Vec<Procedure> {
        vec![attach_company(), detach_company()]
    }

    /// The company the contact-company endpoints answer with.
    fn contact_company_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::arg("contact_id", ColumnType::Text, "contact_id"),
            ResultColumn::text("id", "id"),
            ResultColumn::text("company_id", "company_id"),
            ResultColumn::text("name", "name"),
        ]
    }

    fn attach_company() -> Procedure {
        Procedure::new(
            "AttachContactToCompany",
            "Attaches a contact to a company.",
            "POST",
            COMPANIES,
        )
        .param(Param::contact_id())
        .param(Param::text(
            "company_id",
            "Intercom id of the company (not your company_id).",
        ))
        .body(|a| Ok(Value::Object(fields(a, &[("id", "company_id")]))))
        .idempotent()
        .columns(contact_company_columns())
        .example(concat!(
            "CALL AttachContactToCompany('6650d1c2e4b0a1f2c3d4e5f6', ",
            "'5f0c0a1b2c3d4e5f60718293')"
        ))
    }

    fn detach_company() -> Procedure {
        Procedure::new(
            "DetachContactFromCompany",
            "Detaches a contact from a company.",
            "DELETE",
            COMPANY,
        )
        .param(Param::contact_id())
        .param(Param::text("company_id", "Intercom id of the company."))
        .idempotent()
        .columns(contact_company_columns())
        .example(concat!(
            "CALL DetachContactFromCompany('6650d1c2e4b0a1f2c3d4e5f6', ",
            "'5f0c0a1b2c3d4e5f60718293')"
        ))
    }
}
