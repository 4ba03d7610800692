//! Deterministic demo/test workspace: same config and seed, same ids, names and timestamps.
//!
//! Uses `fastrand::Rng::with_seed` and fixed base timestamps (never the clock). Objects are
//! generated in id order so every `Vec` of the store is sorted by id. Contacts get strictly
//! increasing `created_at` values spread over 2021-01-01..2026-01-01 and ids that start with that
//! timestamp in hex, like Intercom's ObjectId-style ids.

use fastrand::Rng;
use serde_json::json;

use super::EmulatorConfig;
use super::store::*;

/// 2021-01-01T00:00:00Z: the oldest contact.
pub const EPOCH_START: i64 = 1_609_459_200;
/// 2026-01-01T00:00:00Z: the emulator's fixed "now" for seeded data.
pub const SEED_NOW: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

/// Custom contact attributes: (name, data_type).
pub const CONTACT_CUSTOM_ATTRIBUTES: &[(&str, &str)] = &[
    ("plan_tier", "string"),
    ("seats", "integer"),
    ("mrr", "float"),
    ("beta_tester", "boolean"),
    ("trial_ends_at", "date"),
    ("Account Manager", "string"),
];
/// Custom company attributes: (name, data_type).
pub const COMPANY_CUSTOM_ATTRIBUTES: &[(&str, &str)] = &[
    ("churn_risk", "string"),
    ("founded_year", "integer"),
    ("enterprise", "boolean"),
];
/// Custom conversation attributes: (name, data_type).
pub const CONVERSATION_CUSTOM_ATTRIBUTES: &[(&str, &str)] =
    &[("Issue type", "string"), ("escalated", "boolean")];

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
    "Joan",
    "Niklaus",
    "Karen",
    "James",
    "Lucia",
    "Mateo",
    "Amara",
    "Yuki",
    "Priya",
    "Omar",
    "Ingrid",
    "Pierre",
    "Chen",
    "Fatima",
    "Lars",
    "Elena",
    "Kwame",
    "Sofia",
    "Ravi",
    "Nora",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Wilson",
    "van Rossum",
    "Borg",
    "Stroustrup",
    "Clarke",
    "Wirth",
    "Jones",
    "Gosling",
    "Garcia",
    "Rossi",
    "Okafor",
    "Tanaka",
    "Sharma",
    "Haddad",
    "Berg",
    "Dubois",
    "Wei",
    "Khan",
    "Nilsson",
    "Petrova",
    "Mensah",
    "Costa",
    "Iyer",
    "Murphy",
];
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "proton.me",
    "icloud.com",
];
const COMPANY_A: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Aperture",
    "Massive",
    "Pied Piper",
    "Oscorp",
];
const COMPANY_B: &[&str] = &[
    "Labs",
    "Systems",
    "Industries",
    "Analytics",
    "Cloud",
    "Works",
];
const INDUSTRIES: &[&str] = &[
    "Software",
    "Retail",
    "Finance",
    "Healthcare",
    "Education",
    "Manufacturing",
    "Media",
];
const PLANS: &[&str] = &["Free", "Starter", "Pro", "Enterprise"];
const PLAN_TIERS: &[&str] = &["free", "starter", "pro", "enterprise"];
const PLACES: &[Place] = &[
    place("United States", "California", "San Francisco", "USA", "NA"),
    place("United States", "New York", "New York", "USA", "NA"),
    place("United States", "Texas", "Austin", "USA", "NA"),
    place("Canada", "Ontario", "Toronto", "CAN", "NA"),
    place("United Kingdom", "England", "London", "GBR", "EU"),
    place("Ireland", "Leinster", "Dublin", "IRL", "EU"),
    place("Germany", "Berlin", "Berlin", "DEU", "EU"),
    place("France", "Île-de-France", "Paris", "FRA", "EU"),
    place("Spain", "Catalonia", "Barcelona", "ESP", "EU"),
    place("Brazil", "São Paulo", "São Paulo", "BRA", "SA"),
    place("India", "Karnataka", "Bengaluru", "IND", "AS"),
    place("Japan", "Tokyo", "Tokyo", "JPN", "AS"),
    place("Australia", "New South Wales", "Sydney", "AUS", "OC"),
    place("Nigeria", "Lagos", "Lagos", "NGA", "AF"),
];
const BROWSERS: &[(&str, &str)] = &[
    ("chrome", "124.0.6367.91"),
    ("firefox", "125.0"),
    ("safari", "17.4"),
    ("edge", "124.0.2478.67"),
];
const OSES: &[&str] = &[
    "Mac OS X",
    "Windows 10",
    "Windows 11",
    "Linux",
    "iOS",
    "Android",
];
const LANGUAGES: &[&str] = &["en", "en", "en", "fr", "de", "es", "pt", "ja"];
const TAG_NAMES: &[&str] = &[
    "VIP",
    "Churn risk",
    "Beta",
    "Newsletter",
    "Enterprise",
    "Support priority",
    "Onboarding",
    "Partner",
    "Feedback",
    "Do not contact",
    "Trial",
    "Upsell",
    "Event attendee",
    "Billing issue",
];
const ADMIN_NAMES: &[(&str, &str)] = &[
    ("Ciara Lee", "Support Lead"),
    ("Marco Bianchi", "Support Engineer"),
    ("Hana Sato", "Support Engineer"),
    ("Tom Walsh", "Account Executive"),
    ("Aisha Bello", "Customer Success Manager"),
    ("Jonas Weber", "Customer Success Manager"),
    ("Lea Martin", "Solutions Engineer"),
    ("Sam Rivera", "Head of Support"),
];
const TEAM_NAMES: &[&str] = &["Support", "Sales", "Customer Success"];
const SUBJECTS: &[&str] = &[
    "Invoice question",
    "Cannot log in",
    "Feature request: dark mode",
    "Export to CSV fails",
    "Upgrade to Pro",
    "Bug in the mobile app",
    "How do I invite my team?",
    "Refund request",
];
const MESSAGES: &[&str] = &[
    "I need support with my invoice, the amount looks wrong.",
    "Hi, I cannot log in since this morning. Password reset does not arrive.",
    "Would love a dark mode for the dashboard!",
    "The CSV export fails with a timeout when I select a full year.",
    "We want to upgrade our workspace to the Pro plan. Who can help?",
    "The iOS app crashes when I open settings.",
    "How do I invite my team members to the project?",
    "Please refund the duplicate charge from last month.",
];
const REPLIES: &[&str] = &[
    "Thanks for reaching out! Let me look into this for you.",
    "Could you share a screenshot of the error?",
    "I have escalated this to our engineering team.",
    "That should be fixed now, can you try again?",
    "Great, glad it works!",
    "I have applied the change to your account.",
];
const ISSUE_TYPES: &[&str] = &["Billing", "Bug", "Question", "Feature request"];
const REMARKS: &[&str] = &["Quick and helpful", "Took a while", "", "Great support!"];

const fn place(
    country: &'static str,
    region: &'static str,
    city: &'static str,
    country_code: &'static str,
    continent_code: &'static str,
) -> Place {
    Place {
        country,
        region,
        city,
        country_code,
        continent_code,
    }
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(..items.len())]
}

fn maybe<T>(rng: &mut Rng, percent: u32, value: impl FnOnce(&mut Rng) -> T) -> Option<T> {
    if rng.u32(..100) < percent {
        Some(value(rng))
    } else {
        None
    }
}

/// A random instant in `[from, to]` (`to` clamped to at least `from`).
fn between(rng: &mut Rng, from: i64, to: i64) -> i64 {
    if to <= from { from } else { rng.i64(from..=to) }
}

fn hex_id(ts: i64, salt: u64) -> String {
    format!("{:08x}{:016x}", ts as u32, salt)
}

/// Builds the whole workspace for a config.
pub fn seed(config: &EmulatorConfig) -> Store {
    let mut rng = Rng::with_seed(config.seed);
    let mut store = Store {
        workspace_id: format!("ws{:06x}", config.seed & 0xff_ffff),
        ..Store::default()
    };
    store.app = Some(App {
        id_code: store.workspace_id.clone(),
        name: "Emulated Workspace".to_string(),
        region: config.region.clone(),
        timezone: config.timezone.clone(),
        created_at: EPOCH_START - 90 * DAY,
    });
    // Data attributes first: custom attribute values refer to them by index.
    store.data_attributes = data_attributes();
    seed_admins_and_teams(&mut store);
    store.tags = TAG_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| Tag {
            id: 8_000_001 + i as u64,
            name: (*name).to_string(),
            deleted: false,
        })
        .collect();
    seed_segments(&mut store);
    seed_companies(&mut store, &mut rng, config.companies);
    seed_contacts(&mut store, &mut rng, config.contacts);
    seed_notes(&mut store, &mut rng);
    seed_conversations(&mut store, &mut rng, config.conversations);
    seed_tickets(&mut store, &mut rng, config.tickets);
    store.subscription_types = subscription_types();
    store.visitors = visitors();
    seed_help_center(&mut store);
    seed_news_and_brands(&mut store);
    seed_knowledge(&mut store);
    seed_calls(&mut store);
    seed_fin_voice(&mut store);
    seed_workflows(&mut store);
    seed_custom_objects(&mut store);
    // Objects added later draw from their own generator, so the values seeded above never move.
    seed_activity(&mut store, &mut Rng::with_seed(config.seed ^ 0x00ac_7171));
    store.next_part_id = store
        .conversations
        .iter()
        .flat_map(|c| c.parts.iter().map(|p| p.id + 1))
        .max()
        .unwrap_or(40_000_001);
    store.next_ticket_part_id = store
        .tickets
        .iter()
        .flat_map(|t| t.parts.iter().map(|p| p.id + 1))
        .max()
        .unwrap_or(185);
    store.next_message_id = 403_950_001;
    store.refresh_indexes();
    store
}

fn seed_admins_and_teams(store: &mut Store) {
    let team_of = |i: usize| (i % TEAM_NAMES.len()) as u64 + 5_017_691;
    store.admins = ADMIN_NAMES
        .iter()
        .enumerate()
        .map(|(i, (name, title))| Admin {
            id: 991_267_460 + i as u64,
            name: (*name).to_string(),
            email: format!(
                "{}@emulated-workspace.example",
                name.to_lowercase().replace(' ', ".")
            ),
            job_title: title,
            away_mode_enabled: i == 5,
            away_mode_reassign: i == 5,
            away_status_reason_id: None,
            has_inbox_seat: i != 3,
            team_ids: vec![team_of(i)],
        })
        .collect();
    store.teams = TEAM_NAMES
        .iter()
        .enumerate()
        .map(|(t, name)| Team {
            id: 5_017_691 + t as u64,
            name,
            admin_ids: (0..ADMIN_NAMES.len())
                .filter(|i| i % TEAM_NAMES.len() == t)
                .map(|i| 991_267_460 + i as u64)
                .collect(),
            assignment_limit: (t == 0).then_some(10),
            distribution_method: (t == 0).then_some("round_robin"),
        })
        .collect();
}

/// Segment indexes; membership rules are applied while seeding contacts/companies.
const SEG_ACTIVE: u32 = 0;
const SEG_LEADS: u32 = 1;
const SEG_BETA: u32 = 2;
const SEG_ENTERPRISE: u32 = 3;
const SEG_NEW: u32 = 4;
const SEG_DORMANT: u32 = 5;
const SEG_LARGE_COMPANIES: u32 = 6;
const SEG_HIGH_SPEND: u32 = 7;

fn seed_segments(store: &mut Store) {
    let specs: [(&str, &str); 8] = [
        ("Active users", "user"),
        ("All leads", "contact"),
        ("Beta testers", "user"),
        ("Enterprise customers", "user"),
        ("New signups", "user"),
        ("Dormant users", "user"),
        ("Large companies", "user"),
        ("High spend companies", "user"),
    ];
    store.segments = specs
        .iter()
        .enumerate()
        .map(|(i, (name, person_type))| {
            let created = EPOCH_START + (i as i64) * 30 * DAY;
            Segment {
                id: hex_id(created, 0x5e6 + i as u64),
                name,
                created_at: created,
                updated_at: created + 10 * DAY,
                person_type,
            }
        })
        .collect();
}

fn seed_companies(store: &mut Store, rng: &mut Rng, count: usize) {
    let span = (SEED_NOW - 60 * DAY - EPOCH_START).max(1);
    let step = (span / count.max(1) as i64).max(1);
    let attrs = custom_indexes(store, "company", COMPANY_CUSTOM_ATTRIBUTES);
    for i in 0..count {
        let created = EPOCH_START + i as i64 * step + rng.i64(0..step);
        let a = COMPANY_A[i % COMPANY_A.len()];
        let b = COMPANY_B[(i / COMPANY_A.len()) % COMPANY_B.len()];
        let round = i / (COMPANY_A.len() * COMPANY_B.len());
        let name = if round == 0 {
            format!("{a} {b}")
        } else {
            format!("{a} {b} {}", round + 1)
        };
        let slug = name.to_lowercase().replace(' ', "");
        let size = pick(rng, &[5, 12, 40, 120, 350, 800, 2500]);
        let monthly_spend = size * rng.i64(5..60);
        let plan = maybe(rng, 85, |r| pick(r, PLANS)).map(|p| {
            let pid = PLANS.iter().position(|x| *x == p).unwrap_or(0);
            ((261_000 + pid).to_string(), p.to_string())
        });
        let mut segments = Vec::new();
        if size >= 350 {
            segments.push(SEG_LARGE_COMPANIES);
        }
        if monthly_spend >= 10_000 {
            segments.push(SEG_HIGH_SPEND);
        }
        let tags = (0..rng.usize(0..3))
            .map(|_| Tagging {
                tag: rng.u32(..TAG_NAMES.len() as u32),
                applied_at: between(rng, created, SEED_NOW),
                admin: rng.u32(..ADMIN_NAMES.len() as u32),
            })
            .collect::<Vec<_>>();
        let mut tags = tags;
        tags.sort_by_key(|t| t.tag);
        tags.dedup_by_key(|t| t.tag);
        store.companies.push(Company {
            id: hex_id(created, 0xc0 + i as u64),
            company_id: format!("cmp-{:05}", i + 1),
            name,
            plan,
            remote_created_at: created - rng.i64(0..400) * DAY,
            created_at: created,
            updated_at: between(rng, created, SEED_NOW),
            last_request_at: between(rng, created, SEED_NOW),
            size,
            website: format!("https://www.{slug}.example"),
            industry: pick(rng, INDUSTRIES).to_string(),
            monthly_spend,
            session_count: rng.i64(0..5000),
            custom: custom_values(
                &attrs,
                [
                    maybe(rng, 80, |r| pick(r, &["low", "medium", "high"])).map(text),
                    maybe(rng, 70, |r| r.i64(1950..2024)).map(AttrValue::Int),
                    maybe(rng, 90, |_| size >= 800).map(AttrValue::Bool),
                ],
            ),
            tags,
            segments,
            contacts: Vec::new(),
            notes: Vec::new(),
            deleted: false,
        });
    }
}

/// Indexes in `store.data_attributes` of a model's custom attributes, in `list` order.
fn custom_indexes(store: &Store, model: &str, list: &[(&str, &str)]) -> Vec<u32> {
    list.iter()
        .map(|(name, _)| {
            store
                .custom_attribute(model, name)
                .map_or(u32::MAX, |i| i as u32)
        })
        .collect()
}

/// The set values among `values`, paired with the attribute indexes of the same position.
fn custom_values<const N: usize>(indexes: &[u32], values: [Option<AttrValue>; N]) -> Custom {
    let mut out: Custom = indexes
        .iter()
        .zip(values)
        .filter_map(|(&i, v)| Some((i, v?)))
        .filter(|(i, _)| *i != u32::MAX)
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out
}

fn text(s: &'static str) -> AttrValue {
    AttrValue::Str(std::borrow::Cow::Borrowed(s))
}

fn seed_contacts(store: &mut Store, rng: &mut Rng, count: usize) {
    let span = SEED_NOW - 7 * DAY - EPOCH_START;
    let step = (span / count.max(1) as i64).max(1);
    // The last ~10% of companies never get contacts, so list endpoints have something to hide.
    let linkable = if store.companies.len() >= 3 {
        store.companies.len() - store.companies.len() / 10
    } else {
        store.companies.len()
    };
    let admins = store.admins.len() as u32;
    let attrs = custom_indexes(store, "contact", CONTACT_CUSTOM_ATTRIBUTES);
    store.contacts.reserve(count);
    for i in 0..count {
        let created = EPOCH_START + i as i64 * step + rng.i64(0..step);
        let is_user = rng.u32(..100) < 78;
        let first = pick(rng, FIRST);
        let last = pick(rng, LAST);
        let mut companies: Vec<u32> = Vec::new();
        if linkable > 0 {
            let roll = rng.u32(..100);
            if roll < 75 {
                companies.push(rng.u32(..linkable as u32));
            }
            if roll < 10 {
                companies.push(rng.u32(..linkable as u32));
            }
        }
        if i % 997 == 0 {
            companies = (0..linkable.min(12) as u32).collect();
        }
        companies.sort_unstable();
        companies.dedup();
        let domain = match companies.first() {
            Some(&c) if is_user => store.companies[c as usize]
                .website
                .trim_start_matches("https://www.")
                .to_string(),
            _ => pick(rng, FREE_MAIL).to_string(),
        };
        let local = format!("{}.{}", first, last)
            .to_lowercase()
            .replace(' ', "");
        let email = if is_user || rng.u32(..100) < 85 {
            Some(format!("{local}.{i}@{domain}"))
        } else {
            None
        };
        let last_seen_at = maybe(rng, 80, |r| between(r, created, SEED_NOW));
        let (browser, browser_version) = match maybe(rng, 85, |r| pick(r, BROWSERS)) {
            Some((b, v)) => (Some(b), Some(v)),
            None => (None, None),
        };
        let plan_tier = maybe(rng, 90, |r| pick(r, PLAN_TIERS));
        let seats = maybe(rng, 80, |r| r.i64(1..250));
        let mrr = maybe(rng, 80, |r| (r.i64(0..500_000) as f64) / 100.0);
        let beta_tester = maybe(rng, 70, |r| r.u32(..100) < 25);
        let trial_ends_at = maybe(rng, 50, |r| created + r.i64(7..60) * DAY + r.i64(0..DAY));
        let account_manager = maybe(rng, 40, |r| pick(r, ADMIN_NAMES).0);
        let custom = custom_values(
            &attrs,
            [
                plan_tier.map(text),
                seats.map(AttrValue::Int),
                mrr.map(AttrValue::Float),
                beta_tester.map(AttrValue::Bool),
                trial_ends_at.map(AttrValue::Int),
                account_manager.map(text),
            ],
        );
        let mut tags = Vec::new();
        let tag_count = if i % 997 == 0 {
            12
        } else {
            pick(rng, &[0, 0, 0, 1, 1, 2, 3])
        };
        for t in 0..tag_count {
            let tag = if tag_count == 12 {
                t as u32
            } else {
                rng.u32(..TAG_NAMES.len() as u32)
            };
            tags.push(Tagging {
                tag,
                applied_at: between(rng, created, SEED_NOW),
                admin: rng.u32(..admins),
            });
        }
        tags.sort_by_key(|t| t.tag);
        tags.dedup_by_key(|t| t.tag);
        let role = if is_user { "user" } else { "lead" };
        let mut segments = Vec::new();
        if is_user && last_seen_at.is_some_and(|t| t >= SEED_NOW - 90 * DAY) {
            segments.push(SEG_ACTIVE);
        }
        if !is_user {
            segments.push(SEG_LEADS);
        }
        if is_user && beta_tester == Some(true) {
            segments.push(SEG_BETA);
        }
        if is_user && plan_tier == Some("enterprise") {
            segments.push(SEG_ENTERPRISE);
        }
        if created >= SEED_NOW - 180 * DAY {
            segments.push(SEG_NEW);
        }
        if is_user && last_seen_at.is_none_or(|t| t < SEED_NOW - 365 * DAY) {
            segments.push(SEG_DORMANT);
        }
        let index = store.contacts.len() as u32;
        for &c in &companies {
            store.companies[c as usize].contacts.push(index);
        }
        let external_id = is_user.then(|| format!("u-{:06}", i + 1));
        if let Some(ext) = &external_id {
            store.contact_by_external_id.insert(ext.clone(), index);
        }
        store.contacts.push(Contact {
            id: hex_id(created, (config_salt(i)) & 0xffff_ffff_ffff),
            external_id,
            role,
            email,
            phone: maybe(rng, 50, |r| {
                format!("+1 {} 555 {:04}", r.u32(200..999), r.u32(0..10_000))
            }),
            name: if is_user || rng.bool() {
                Some(format!("{first} {last}"))
            } else {
                None
            },
            avatar: None,
            owner_id: maybe(rng, 40, |r| 991_267_460 + r.u64(..admins as u64)),
            has_hard_bounced: rng.u32(..100) < 2,
            marked_email_as_spam: rng.u32(..100) < 1,
            unsubscribed_from_emails: rng.u32(..100) < 8,
            created_at: created,
            updated_at: between(rng, created, SEED_NOW),
            signed_up_at: is_user.then(|| created + rng.i64(0..3 * DAY)),
            last_seen_at,
            last_replied_at: maybe(rng, 30, |r| between(r, created, SEED_NOW)),
            last_contacted_at: maybe(rng, 40, |r| between(r, created, SEED_NOW)),
            last_email_opened_at: maybe(rng, 35, |r| between(r, created, SEED_NOW)),
            last_email_clicked_at: maybe(rng, 20, |r| between(r, created, SEED_NOW)),
            language_override: maybe(rng, 5, |r| pick(r, &["fr", "de", "es"])),
            browser,
            browser_version,
            browser_language: browser.map(|_| pick(rng, LANGUAGES)),
            os: maybe(rng, 85, |r| pick(r, OSES)),
            location: maybe(rng, 90, |r| pick(r, PLACES)),
            custom,
            tags,
            companies,
            segments,
            notes: Vec::new(),
            // Explicit choices, by index so the random draws above stay as they were: every
            // ninth contact opted out of the newsletter, every fourteenth into product updates.
            subscriptions: [(i % 9 == 4, 0, "opt_out"), (i % 14 == 6, 1, "opt_in")]
                .into_iter()
                .filter(|(chosen, _, _)| *chosen)
                .map(|(_, sub, consent)| (sub, consent))
                .collect(),
            state: ContactState::Active,
            blocked: false,
        });
    }
}

/// Low 48 bits of a contact id: a bijective mix of the index so ids look random but stay unique.
fn config_salt(i: usize) -> u64 {
    (i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
        ^ 0x5DEE_CE66
}

fn seed_notes(store: &mut Store, rng: &mut Rng) {
    const BODIES: &[&str] = &[
        "Called about renewal, follow up next week.",
        "Interested in the enterprise plan.",
        "Reported a bug with exports; ticket opened.",
        "Prefers email over phone.",
        "Met at the user conference.",
    ];
    let mut next_id = 3_100_001u64;
    let admins = store.admins.len() as u32;
    for c in 0..store.contacts.len() {
        let n = if c % 997 == 0 {
            12
        } else if rng.u32(..100) < 10 {
            rng.usize(1..4)
        } else {
            0
        };
        let created = store.contacts[c].created_at;
        for _ in 0..n {
            let idx = store.notes.len() as u32;
            store.notes.push(Note {
                id: next_id,
                created_at: between(rng, created, SEED_NOW),
                contact: Some(c as u32),
                company: None,
                author: rng.u32(..admins),
                body: format!("<p>{}</p>", pick(rng, BODIES)),
            });
            next_id += 1;
            store.contacts[c].notes.push(idx);
        }
    }
    for c in 0..store.companies.len() {
        if c % 3 != 0 {
            continue;
        }
        let idx = store.notes.len() as u32;
        let created = store.companies[c].created_at;
        store.notes.push(Note {
            id: next_id,
            created_at: between(rng, created, SEED_NOW),
            contact: None,
            company: Some(c as u32),
            author: rng.u32(..admins),
            body: format!("<p>{}</p>", pick(rng, BODIES)),
        });
        next_id += 1;
        store.companies[c].notes.push(idx);
    }
}

fn seed_conversations(store: &mut Store, rng: &mut Rng, count: usize) {
    if store.contacts.is_empty() {
        return;
    }
    let admins = store.admins.len() as u32;
    let attrs = custom_indexes(store, "conversation", CONVERSATION_CUSTOM_ATTRIBUTES);
    let start = SEED_NOW - 3 * 365 * DAY;
    let step = ((SEED_NOW - 2 * DAY - start) / count.max(1) as i64).max(1);
    let mut part_id = 40_000_001u64;
    for i in 0..count {
        let created = start + i as i64 * step + rng.i64(0..step);
        let contact = rng.u32(..store.contacts.len() as u32);
        let msg = rng.usize(..MESSAGES.len());
        let state = pick(
            rng,
            &["open", "open", "closed", "closed", "closed", "snoozed"],
        );
        let assignee = maybe(rng, 70, |r| r.u32(..admins));
        let team = maybe(rng, 50, |r| r.u32(..store.teams.len() as u32));
        let ai = rng.u32(..100) < 15;
        let n_parts = rng.usize(1..=10);
        let mut parts = Vec::with_capacity(n_parts);
        let mut t = created;
        let mut first_admin_reply = None;
        let mut last_admin_reply = None;
        let mut last_contact_reply = None;
        let mut first_contact_reply = None;
        let mut first_assignment = None;
        let mut assignments = 0;
        for p in 0..n_parts {
            t += rng.i64(60..6 * 3600);
            let is_last = p + 1 == n_parts;
            let (part_type, author, body, assigned_to) = if is_last && state == "closed" {
                ("close", Author::Admin(assignee.unwrap_or(0)), None, None)
            } else if is_last && state == "snoozed" {
                ("snoozed", Author::Admin(assignee.unwrap_or(0)), None, None)
            } else if p == 0 && assignee.is_some() {
                let a = assignee.unwrap_or(0);
                ("assignment", Author::Admin(a), None, Some(Author::Admin(a)))
            } else if p == 1 && ai {
                (
                    "comment",
                    Author::Bot,
                    Some("<p>Hi, I am Fin. Here is an article that may help.</p>".to_string()),
                    None,
                )
            } else if p % 2 == 1 {
                (
                    "comment",
                    Author::Admin(assignee.unwrap_or_else(|| rng.u32(..admins))),
                    Some(format!("<p>{}</p>", pick(rng, REPLIES))),
                    None,
                )
            } else if rng.u32(..100) < 20 {
                (
                    "note",
                    Author::Admin(rng.u32(..admins)),
                    Some("<p>Internal: customer is on the Pro plan.</p>".to_string()),
                    None,
                )
            } else {
                (
                    "comment",
                    Author::Contact(contact),
                    Some(format!("<p>{}</p>", pick(rng, REPLIES))),
                    None,
                )
            };
            match (part_type, author) {
                ("comment", Author::Admin(_)) => {
                    first_admin_reply.get_or_insert(t);
                    last_admin_reply = Some(t);
                }
                ("comment", Author::Contact(_)) => {
                    first_contact_reply.get_or_insert(t);
                    last_contact_reply = Some(t);
                }
                ("assignment", _) => {
                    first_assignment.get_or_insert(t);
                    assignments += 1;
                }
                _ => {}
            }
            parts.push(Part {
                id: part_id,
                part_type,
                body,
                created_at: t,
                author,
                assigned_to,
                state: if is_last { state } else { "open" },
                redacted: false,
                metadata: None,
            });
            part_id += 1;
        }
        let closed_at = (state == "closed").then_some(t);
        let last_from_contact = matches!(parts.last().map(|p| p.author), Some(Author::Contact(_)));
        let mut tags: Vec<Tagging> = (0..pick(rng, &[0, 0, 1, 2]))
            .map(|_| Tagging {
                tag: rng.u32(..TAG_NAMES.len() as u32),
                applied_at: between(rng, created, t),
                admin: rng.u32(..admins),
            })
            .collect();
        tags.sort_by_key(|t| t.tag);
        tags.dedup_by_key(|t| t.tag);
        let contact_company = store.contacts[contact as usize].companies.first().copied();
        store.conversations.push(Conversation {
            id: 1_000 + i as u64 * 3 + rng.u64(0..3),
            title: maybe(rng, 30, |_| SUBJECTS[msg].to_string()),
            created_at: created,
            updated_at: t,
            waiting_since: (state == "open" && last_from_contact).then_some(t),
            snoozed_until: (state == "snoozed").then(|| t + rng.i64(1..72) * 3600),
            state,
            read: rng.u32(..100) < 70,
            priority: if rng.u32(..100) < 20 {
                "priority"
            } else {
                "not_priority"
            },
            admin_assignee: assignee,
            team_assignee: team,
            source_type: pick(rng, &["conversation", "conversation", "email", "push"]),
            source_id: 403_918_000 + i as u64,
            delivered_as: "customer_initiated",
            subject: SUBJECTS[msg].to_string(),
            body: format!("<p>{}</p>", MESSAGES[msg]),
            source_author: Author::Contact(contact),
            source_redacted: false,
            contacts: vec![contact],
            teammates: assignee.into_iter().collect(),
            tags,
            statistics: Statistics {
                time_to_assignment: first_assignment.map(|a| a - created),
                time_to_admin_reply: first_admin_reply.map(|a| a - created),
                time_to_first_close: closed_at.map(|c| c - created),
                time_to_last_close: closed_at.map(|c| c - created),
                median_time_to_reply: first_admin_reply.map(|a| (a - created) / 2 + 30),
                first_contact_reply_at: first_contact_reply.or(Some(created)),
                first_assignment_at: first_assignment,
                first_admin_reply_at: first_admin_reply,
                first_close_at: closed_at,
                last_assignment_at: first_assignment,
                last_assignment_admin_reply_at: first_assignment.and(last_admin_reply),
                last_contact_reply_at: last_contact_reply.or(Some(created)),
                last_admin_reply_at: last_admin_reply,
                last_close_at: closed_at,
                last_closed_by_id: closed_at
                    .map(|_| store.admins[assignee.unwrap_or(0) as usize].id.to_string()),
                count_reopens: 0,
                count_assignments: assignments,
                count_conversation_parts: n_parts as i64 + 1,
                handling_time: rng.i64(60..7200),
            },
            rating: if state == "closed" && rng.u32(..100) < 40 {
                Some(Rating {
                    rating: rng.i64(1..=5),
                    remark: pick(rng, REMARKS),
                    created_at: t + 600,
                    contact,
                    teammate: assignee.unwrap_or(0),
                })
            } else {
                None
            },
            custom: custom_values(
                &attrs,
                [
                    maybe(rng, 70, |r| pick(r, ISSUE_TYPES)).map(text),
                    maybe(rng, 60, |r| r.u32(..100) < 15).map(AttrValue::Bool),
                ],
            ),
            ai_agent_participated: ai,
            company: contact_company,
            parts,
            linked_ticket: None,
            deleted: false,
            archived: false,
        });
    }
}

fn seed_tickets(store: &mut Store, rng: &mut Rng, count: usize) {
    let states: [(&str, &str, &str); 4] = [
        ("submitted", "Submitted", "Submitted"),
        ("in_progress", "In progress", "In progress"),
        (
            "waiting_on_customer",
            "Waiting on customer",
            "Awaiting your reply",
        ),
        ("resolved", "Resolved", "Resolved"),
    ];
    store.ticket_states = states
        .iter()
        .enumerate()
        .map(|(i, (category, internal, external))| TicketState {
            id: 8_537 + i as u64,
            category,
            internal_label: internal,
            external_label: external,
        })
        .collect();
    let created = EPOCH_START + 400 * DAY;
    let attr = |id: u64, name: &str, description: &str, data_type: &'static str, order: i64| {
        TicketTypeAttribute {
            id,
            name: name.to_string(),
            description: description.to_string(),
            data_type,
            input_options: None,
            order,
            required_to_create: order < 1,
            required_to_create_for_contacts: false,
            visible_on_create: true,
            visible_to_contacts: order < 2,
            default: order < 2,
            archived: false,
            created_at: created,
            updated_at: created,
        }
    };
    let with_defaults = |base: u64, extra: Vec<TicketTypeAttribute>| {
        let mut attrs = default_ticket_attributes(base, created);
        attrs.extend(extra);
        attrs
    };
    let ty = |id: u64,
              name: &str,
              description: &str,
              icon: &str,
              category: &'static str,
              attributes: Vec<TicketTypeAttribute>| TicketType {
        id,
        name: name.to_string(),
        description: description.to_string(),
        icon: icon.to_string(),
        category,
        is_internal: category == "Back-office",
        archived: false,
        created_at: created,
        updated_at: created,
        attributes,
    };
    store.ticket_types = vec![
        ty(
            95,
            "Bug report",
            "Something is broken",
            "🐞",
            "Customer",
            with_defaults(
                210,
                vec![
                    attr(212, "Severity", "How bad is it", "list", 2),
                    attr(
                        213,
                        "Affected users",
                        "How many users are affected",
                        "integer",
                        3,
                    ),
                ],
            ),
        ),
        ty(
            96,
            "Billing question",
            "Questions about invoices and refunds",
            "💳",
            "Customer",
            with_defaults(
                220,
                vec![attr(222, "Refund amount", "Amount to refund", "decimal", 2)],
            ),
        ),
        ty(
            97,
            "Internal task",
            "Back-office follow-up",
            "🗂️",
            "Back-office",
            with_defaults(
                230,
                vec![attr(
                    232,
                    "Needs engineering",
                    "Requires an engineer",
                    "boolean",
                    2,
                )],
            ),
        ),
    ];
    if store.contacts.is_empty() {
        return;
    }
    let admins = store.admins.len() as u32;
    let start = SEED_NOW - 2 * 365 * DAY;
    let step = ((SEED_NOW - DAY - start) / count.max(1) as i64).max(1);
    let mut part_id = 185u64;
    for i in 0..count {
        let created = start + i as i64 * step + rng.i64(0..step);
        let ty = rng.u32(..store.ticket_types.len() as u32);
        let state = rng.u32(..store.ticket_states.len() as u32);
        let state_cat = store.ticket_states[state as usize].category;
        let msg = rng.usize(..MESSAGES.len());
        let mut attributes: Vec<(String, serde_json::Value)> = vec![
            ("_default_title_".into(), json!(SUBJECTS[msg])),
            ("_default_description_".into(), json!(MESSAGES[msg])),
        ];
        match ty {
            0 => {
                attributes.push((
                    "Severity".into(),
                    json!(pick(rng, &["Low", "Medium", "High"])),
                ));
                attributes.push(("Affected users".into(), json!(rng.i64(1..500))));
            }
            1 => attributes.push((
                "Refund amount".into(),
                json!((rng.i64(100..50_000) as f64) / 100.0),
            )),
            _ => attributes.push(("Needs engineering".into(), json!(rng.bool()))),
        }
        let assignee = maybe(rng, 60, |r| r.u32(..admins));
        let mut parts = Vec::new();
        let mut t = created;
        let mut prev = "submitted";
        for _ in 0..rng.usize(1..4) {
            t += rng.i64(300..86_400);
            parts.push(TicketPart {
                id: part_id,
                part_type: "ticket_state_updated_by_admin",
                body: None,
                previous_state: prev,
                state: state_cat,
                created_at: t,
                author: Author::Admin(assignee.unwrap_or(0)),
                assigned_to: None,
            });
            prev = state_cat;
            part_id += 1;
        }
        store.tickets.push(Ticket {
            id: 600 + i as u64 * 2 + rng.u64(0..2),
            ticket_id: 30 + i as u64,
            ticket_type: ty,
            state,
            contacts: vec![rng.u32(..store.contacts.len() as u32)],
            admin_assignee: assignee,
            team_assignee: maybe(rng, 40, |r| r.u32(..store.teams.len() as u32)),
            created_at: created,
            updated_at: t,
            open: state_cat != "resolved",
            snoozed_until: None,
            is_shared: rng.u32(..100) < 30,
            attributes,
            parts,
            tags: Vec::new(),
            company: None,
            linked_conversation: None,
            deleted: false,
        });
    }
}

fn standard(
    model: &'static str,
    name: &'static str,
    full_name: &str,
    label: &'static str,
    data_type: &'static str,
) -> DataAttribute {
    DataAttribute {
        id: None,
        model,
        name: name.to_string(),
        full_name: full_name.to_string(),
        label: label.to_string(),
        description: label.to_string(),
        data_type,
        options: None,
        api_writable: !matches!(name, "id" | "created_at" | "updated_at" | "last_seen_at"),
        ui_writable: true,
        messenger_writable: false,
        custom: false,
        archived: false,
        created_at: None,
        updated_at: None,
        admin_id: None,
    }
}

fn data_attributes() -> Vec<DataAttribute> {
    let mut out = Vec::new();
    let contact_std: &[(&str, &str, &str)] = &[
        ("id", "Id", "string"),
        ("external_id", "User ID", "string"),
        ("role", "Role", "string"),
        ("name", "Name", "string"),
        ("email", "Email", "string"),
        ("email_domain", "Email domain", "string"),
        ("phone", "Phone", "string"),
        ("owner_id", "Owner", "integer"),
        ("created_at", "Signed up", "date"),
        ("signed_up_at", "Signed up at", "date"),
        ("updated_at", "Updated at", "date"),
        ("last_seen_at", "Last seen", "date"),
        ("last_contacted_at", "Last contacted", "date"),
        ("last_replied_at", "Last heard from", "date"),
        ("last_email_opened_at", "Last opened email", "date"),
        (
            "last_email_clicked_at",
            "Last clicked on link in email",
            "date",
        ),
        ("browser", "Browser", "string"),
        ("browser_language", "Browser language", "string"),
        ("language_override", "Language override", "string"),
        ("os", "OS", "string"),
        (
            "unsubscribed_from_emails",
            "Unsubscribed from emails",
            "boolean",
        ),
        ("marked_email_as_spam", "Marked email as spam", "boolean"),
        ("has_hard_bounced", "Has hard bounced", "boolean"),
    ];
    for &(name, label, ty) in contact_std {
        out.push(standard("contact", name, name, label, ty));
    }
    for (name, label) in [
        ("country", "Country"),
        ("region", "Region"),
        ("city", "City"),
    ] {
        out.push(standard(
            "contact",
            name,
            &format!("location.{name}"),
            label,
            "string",
        ));
    }
    let company_std: &[(&str, &str, &str, &str)] = &[
        ("id", "id", "Company ID (Intercom)", "string"),
        ("company_id", "company_id", "Company ID", "string"),
        ("name", "name", "Company name", "string"),
        ("name", "plan.name", "Plan", "string"),
        ("created_at", "created_at", "Company created at", "date"),
        (
            "remote_created_at",
            "remote_created_at",
            "Company created at (remote)",
            "date",
        ),
        (
            "last_request_at",
            "last_request_at",
            "Company last seen",
            "date",
        ),
        ("monthly_spend", "monthly_spend", "Monthly Spend", "float"),
        (
            "session_count",
            "session_count",
            "Company web sessions",
            "integer",
        ),
        ("user_count", "user_count", "People", "integer"),
        ("size", "size", "Company size", "integer"),
        ("website", "website", "Company website", "string"),
        ("industry", "industry", "Company industry", "string"),
    ];
    for &(name, full, label, ty) in company_std {
        out.push(standard("company", name, full, label, ty));
    }
    let conversation_std: &[(&str, &str)] = &[
        ("id", "string"),
        ("created_at", "date"),
        ("updated_at", "date"),
        ("state", "string"),
        ("priority", "string"),
        ("admin_assignee_id", "integer"),
        ("team_assignee_id", "integer"),
    ];
    for &(name, ty) in conversation_std {
        out.push(standard("conversation", name, name, name, ty));
    }
    let mut id = 15_000_001i64;
    let mut custom = |model: &'static str, list: &[(&'static str, &'static str)]| {
        for (name, ty) in list {
            out.push(DataAttribute {
                id: Some(id),
                model,
                name: (*name).to_string(),
                full_name: format!("custom_attributes.{name}"),
                label: (*name).to_string(),
                description: "Custom attribute".to_string(),
                data_type: ty,
                options: (*name == "plan_tier")
                    .then(|| PLAN_TIERS.iter().map(|t| (*t).to_string()).collect()),
                api_writable: true,
                ui_writable: true,
                messenger_writable: false,
                custom: true,
                archived: false,
                created_at: Some(EPOCH_START - 30 * DAY),
                updated_at: Some(EPOCH_START - 30 * DAY),
                // Custom attributes were created by admin #1 of the seed.
                admin_id: Some("991267460".to_string()),
            });
            id += 1;
        }
    };
    custom("contact", CONTACT_CUSTOM_ATTRIBUTES);
    custom("company", COMPANY_CUSTOM_ATTRIBUTES);
    custom("conversation", CONVERSATION_CUSTOM_ATTRIBUTES);
    out
}

/// The two attributes every ticket type starts with (official spec: `GET /ticket_types`), ids
/// `base` and `base + 1`.
pub fn default_ticket_attributes(base: u64, created: i64) -> Vec<TicketTypeAttribute> {
    [
        ("_default_title_", "Title of the ticket"),
        ("_default_description_", "Description of the ticket"),
    ]
    .iter()
    .enumerate()
    .map(|(order, (name, description))| TicketTypeAttribute {
        id: base + order as u64,
        name: (*name).to_string(),
        description: (*description).to_string(),
        data_type: "string",
        input_options: None,
        order: order as i64,
        required_to_create: order < 1,
        required_to_create_for_contacts: false,
        visible_on_create: true,
        visible_to_contacts: true,
        default: true,
        archived: false,
        created_at: created,
        updated_at: created,
    })
    .collect()
}

fn subscription_types() -> Vec<SubscriptionType> {
    vec![
        SubscriptionType {
            id: 135,
            state: "live",
            consent_type: "opt_out",
            name: "Newsletters",
            description: "Product news and tips, about once a month",
            content_types: &["email"],
        },
        SubscriptionType {
            id: 136,
            state: "live",
            consent_type: "opt_in",
            name: "Product updates",
            description: "Release notes for every new version",
            content_types: &["email"],
        },
        SubscriptionType {
            id: 137,
            state: "live",
            consent_type: "opt_in",
            name: "SMS alerts",
            description: "Outage and billing alerts by text message",
            content_types: &["sms_message"],
        },
    ]
}

/// A few anonymous visitors, derived from the seed's fixed clock (no randomness, so adding
/// them changed no other seeded value).
fn visitors() -> Vec<Visitor> {
    (0..5u64)
        .map(|i| {
            let created = SEED_NOW - (10 - i as i64) * DAY;
            Visitor {
                id: hex_id(created, 0x715 + i),
                user_id: format!(
                    "{:08x}-9ed1-4e9f-88e1-{:012x}",
                    0x3ecf_64d0u32 + i as u32,
                    0xda7d_6e67_82f3u64 + i
                ),
                email: (i % 2 == 1).then(|| format!("visitor{i}@example.org")),
                name: (i == 3).then(|| "Curious Visitor".to_string()),
                created_at: created,
                updated_at: created + 3600,
                session_count: i as i64 + 1,
                custom_attributes: serde_json::Map::new(),
                converted_to: None,
            }
        })
        .collect()
}

/// Away reasons, the admins' activity log, handling events of conversations and data events
/// of contacts.
fn seed_activity(store: &mut Store, rng: &mut Rng) {
    store.away_status_reasons = [
        ("On a break", "☕", false),
        ("In a meeting", "📅", false),
        ("Out for the day", "🏠", false),
        ("On vacation", "🌴", true),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(label, emoji, deleted))| {
        let created = EPOCH_START + i as i64 * 40 * DAY;
        AwayStatusReason {
            id: 12_001 + i as u64,
            label,
            emoji,
            order: i as i64 + 1,
            deleted,
            created_at: created,
            updated_at: created + if deleted { 200 * DAY } else { 0 },
        }
    })
    .collect();
    const ACTIVITIES: &[(&str, &str)] = &[
        ("admin_login_success", "logged in"),
        ("admin_away_mode_change", "changed their away mode"),
        ("app_name_change", "changed the workspace name"),
        ("admin_permission_change", "changed permissions"),
        ("message_state_change", "changed a message's state"),
    ];
    let admins = store.admins.len().max(1) as u32;
    store.activity_logs = (0..60u64)
        .map(|i| {
            let created_at = SEED_NOW - (60 - i as i64) * DAY / 2 - rng.i64(0..3600);
            let (activity_type, what) = pick(rng, ACTIVITIES);
            let admin = rng.u32(..admins);
            let metadata = match activity_type {
                "admin_away_mode_change" => {
                    json!({"away_mode": rng.bool(), "reassign_conversations": false})
                }
                "admin_login_success" => json!({"sign_in_method": "email_password"}),
                _ => json!({}),
            };
            ActivityLog {
                id: format!(
                    "{:08x}-a10c-4e57-b1a5-{:012x}",
                    0x6c0d_0000u32 + i as u32,
                    i
                ),
                created_at,
                activity_type,
                description: format!("{} {what}.", store.admins[admin as usize].name),
                admin,
                metadata,
            }
        })
        .collect();
    // Every fifth conversation was paused and resumed by its assignee (or the first admin).
    for c in store.conversations.iter().step_by(5) {
        let admin = c.admin_assignee.unwrap_or(0);
        let paused = c.created_at + rng.i64(600..86_400);
        let mut events = vec![HandlingEvent {
            admin,
            kind: "paused",
            at: paused,
            reason: maybe(rng, 60, |r| pick(r, &["Lunch", "Waiting on engineering"])),
        }];
        if rng.u32(..100) < 80 {
            events.push(HandlingEvent {
                admin,
                kind: "resumed",
                at: paused + rng.i64(300..7_200),
                reason: None,
            });
        }
        store.handling_events.insert(c.id, events);
    }
    // Data events of the first contacts, within the last 90 days, distinct seconds per contact.
    const EVENT_NAMES: &[&str] = &[
        "invited-teammate",
        "upgraded-plan",
        "exported-report",
        "viewed-pricing",
    ];
    let mut seq = 1;
    for contact in (0..store.contacts.len().min(400)).step_by(4) {
        let mut at = SEED_NOW - 80 * DAY + rng.i64(0..DAY);
        for _ in 0..rng.usize(1..8) {
            at += rng.i64(60..10 * DAY);
            let name = pick(rng, EVENT_NAMES);
            let mut metadata = serde_json::Map::new();
            if name == "upgraded-plan" {
                // The spec's metadata values are strings.
                metadata.insert("plan".into(), json!(pick(rng, PLAN_TIERS)));
                metadata.insert("seats".into(), json!(rng.i64(1..200).to_string()));
            }
            store.events.push(DataEvent {
                seq,
                contact: contact as u32,
                event_name: name.to_string(),
                created_at: at,
                metadata,
            });
            seq += 1;
        }
    }
}

/// Two help centers, their collections and sections, and articles (some translated into
/// French, some drafts), derived from the seed's fixed clock: no randomness, so adding them
/// moved no other seeded value.
fn seed_help_center(store: &mut Store) {
    use serde_json::Value;
    let ws = store.workspace_id.clone();
    let at = |days: i64| SEED_NOW - days * DAY;
    store.help_centers = [
        ("81", "acme-help", "Acme Help Center", true),
        ("82", "acme-internal", "Acme Internal Docs", false),
    ]
    .iter()
    .enumerate()
    .map(|(i, (id, identifier, name, live))| {
        json!({
            "id": id, "workspace_id": ws, "created_at": at(300 - i as i64),
            "updated_at": at(30 - i as i64), "identifier": identifier,
            "website_turned_on": live, "display_name": name,
            "url": format!("https://help.example.test/{identifier}"),
            "custom_domain": if *live { json!("help.example.test") } else { Value::Null },
        })
    })
    .collect();
    // (id, name, parent, help center, icon)
    let collections: [(&str, &str, Option<&str>, i64, &str); 7] = [
        ("170", "Getting started", None, 81, "rocket"),
        ("171", "Billing", None, 81, "credit-card"),
        ("172", "Integrations", None, 81, "plug"),
        ("173", "Invoices", Some("171"), 81, "receipt"),
        ("174", "Refunds", Some("171"), 81, "arrow-left"),
        ("175", "Runbooks", None, 82, "book-bookmark"),
        ("176", "On-call", Some("175"), 82, "bell"),
    ];
    store.collections = collections
        .iter()
        .enumerate()
        .map(|(i, (id, name, parent, hc, icon))| {
            let description = format!("Everything about {}.", name.to_lowercase());
            let mut translated = json!({
                "type": "group_translated_content",
                "en": {"type": "group_content", "name": name, "description": description},
            });
            if i % 3 == 0 {
                translated["fr"] = json!({"type": "group_content", "name": format!("{name} (fr)"), "description": format!("Tout sur {}.", name.to_lowercase())});
            }
            json!({
                "id": id, "workspace_id": ws, "name": name, "description": description,
                "created_at": at(280 - i as i64 * 3), "updated_at": at(40 - i as i64 * 2),
                "url": format!("https://help.example.test/en/collections/{id}"),
                "icon": icon, "order": i + 1, "default_locale": "en",
                "translated_content": translated, "parent_id": parent,
                "help_center_id": if parent.is_some() { Value::Null } else { json!(hc) },
            })
        })
        .collect();
    let titles = [
        "How to invite your team",
        "Setting up single sign-on",
        "Changing your plan",
        "Where to find your invoices",
        "Requesting a refund",
        "Connecting Slack",
        "Connecting Salesforce",
        "Exporting your data",
        "Resetting a password",
        "Two-factor authentication",
        "Paying by bank transfer",
        "Refunds for annual plans",
        "Webhooks explained",
        "API rate limits",
        "Deleting your account",
        "Incident runbook",
        "Paging the on-call engineer",
        "Escalating a bug report",
        "Using the mobile app",
        "Keyboard shortcuts",
        "Custom domains for the help center",
        "Translating articles",
    ];
    let parents = [
        "170", "170", "171", "173", "174", "172", "172", "170", "170", "170", "173", "174", "172",
        "172", "171", "175", "176", "175",
    ];
    let authors: Vec<u64> = store.admins.iter().map(|a| a.id).collect();
    store.articles = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let id = (45 + i).to_string();
            let parent = parents.get(i).copied();
            let author = authors[i % authors.len().max(1)];
            let state = if i % 5 == 4 { "draft" } else { "published" };
            let (created, updated) = (at(250 - i as i64 * 7), at(20 - i as i64 % 17));
            let slug: String = title.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let description = format!("{title}, step by step.");
            let body = format!("<p>{title}: what to do, and what to check afterwards.</p>");
            let url = format!("https://help.example.test/en/articles/{id}-{slug}");
            let mut translated = json!({
                "type": "article_translated_content",
                "en": {"type": "article_content", "title": title, "description": description, "body": body,
                       "author_id": author, "state": state, "created_at": created, "updated_at": updated, "url": url},
            });
            if i % 3 == 0 {
                translated["fr"] = json!({"type": "article_content", "title": format!("{title} (fr)"),
                    "description": format!("{title}, étape par étape."), "body": format!("<p>{title} : la marche à suivre.</p>"),
                    "author_id": author, "state": if i % 2 == 0 { "published" } else { "draft" },
                    "created_at": created + DAY, "updated_at": updated,
                    "url": format!("https://help.example.test/fr/articles/{id}-{slug}")});
            }
            let views = (i as i64 * 37) % 500;
            json!({
                "type": "article", "id": id, "workspace_id": ws, "title": title,
                "description": description, "body": body, "author_id": author, "state": state,
                "created_at": created, "updated_at": updated, "url": url,
                "parent_id": parent.and_then(|p| p.parse::<i64>().ok()),
                "parent_ids": parent.and_then(|p| p.parse::<i64>().ok()).into_iter().collect::<Vec<_>>(),
                "parent_type": parent.map(|p| if ["173", "174", "176"].contains(&p) { "section" } else { "collection" }),
                "default_locale": "en", "translated_content": translated,
                "statistics": super::render::article_statistics(views),
                "tags": {"type": "tag.list", "tags": []},
            })
        })
        .collect();
}

/// Two newsfeeds and their news items, two brands with their sender addresses, and the IP
/// allowlist, from the seed's fixed clock (no randomness: no other seeded value moved).
fn seed_news_and_brands(store: &mut Store) {
    let ws = store.workspace_id.clone();
    let at = |days: i64| SEED_NOW - days * DAY;
    store.newsfeeds = [("53", "Messenger"), ("54", "Help Center")]
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            json!({"id": id, "type": "newsfeed", "name": name,
                   "created_at": at(200 - i as i64), "updated_at": at(20 - i as i64)})
        })
        .collect();
    let titles = [
        "Dark mode is here",
        "New: scheduled exports",
        "Faster search",
        "Holiday support hours",
        "Pricing update",
        "Mobile app 3.0",
        "Webhooks for tickets",
    ];
    let senders: Vec<u64> = store.admins.iter().map(|a| a.id).collect();
    store.news_items = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let live = i % 4 != 3;
            let feeds: Vec<serde_json::Value> = match i % 3 {
                0 => vec![json!({"newsfeed_id": 53, "published_at": at(60 - i as i64)})],
                1 => vec![
                    json!({"newsfeed_id": 53, "published_at": at(60 - i as i64)}),
                    json!({"newsfeed_id": 54, "published_at": at(59 - i as i64)}),
                ],
                _ => vec![],
            };
            json!({
                "id": (29 + i).to_string(), "type": "news-item", "workspace_id": ws,
                "title": title, "body": format!("<p>{title}.</p>"),
                "sender_id": senders[i % senders.len().max(1)],
                "state": if live { "live" } else { "draft" },
                "labels": if i % 2 == 0 { json!(["Product", "New"]) } else { json!([]) },
                "cover_image_url": if i == 0 { json!("https://images.example.test/dark.png") } else { json!(null) },
                "reactions": ["👍", "🎉", null],
                "deliver_silently": i % 5 == 2,
                "newsfeed_assignments": feeds,
                "created_at": at(90 - i as i64 * 5), "updated_at": at(30 - i as i64 * 3),
            })
        })
        .collect();
    store.brands = [
        ("10", "Acme", true, "81", "15"),
        ("11", "Acme Premium", false, "82", "16"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (id, name, default, hc, address))| {
        json!({"type": "brand", "id": id, "name": name, "is_default": default,
                   "created_at": at(400 - i as i64 * 50), "updated_at": at(40 - i as i64),
                   "help_center_id": hc, "default_address_settings_id": address})
    })
    .collect();
    store.emails = [
        ("1", "support@acme.example", true, "10", true),
        ("2", "hello@acme.example", true, "10", false),
        ("3", "vip@premium.acme.example", false, "11", false),
    ]
    .iter()
    .enumerate()
    .map(|(i, (id, email, verified, brand, forwarding))| {
        let domain = email.split('@').nth(1).unwrap_or_default();
        json!({"type": "email_setting", "id": id, "email": email, "verified": verified,
               "domain": domain, "brand_id": brand, "forwarding_enabled": forwarding,
               "forwarded_email_last_received_at": if *forwarding { json!(at(1)) } else { json!(null) },
               "created_at": at(380 - i as i64 * 10), "updated_at": at(10 + i as i64)})
    })
    .collect();
    store.ip_allowlist = json!({"type": "ip_allowlist", "enabled": false,
                                "ip_allowlist": ["192.0.2.0/24", "198.51.100.7"]});
}

/// Content import sources (one fed through the API, with external pages) and internal
/// articles, from the seed's fixed clock (no randomness: no other seeded value moved).
fn seed_knowledge(store: &mut Store) {
    let at = |days: i64| SEED_NOW - days * DAY;
    store.content_import_sources = [
        (33, "https://docs.acme.example/", "api", "active"),
        (34, "https://status.acme.example/", "automatic", "active"),
        (
            35,
            "https://legacy.acme.example/kb/",
            "manual",
            "deactivated",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (id, url, sync, status))| {
        json!({"id": id, "type": "content_import_source", "url": url, "sync_behavior": sync,
               "status": status, "audience_ids": if i == 0 { json!([5678]) } else { json!([]) },
               "created_at": at(150 - i as i64), "updated_at": at(15 - i as i64),
               "last_synced_at": at(1 + i as i64)})
    })
    .collect();
    store.external_pages = [
        "Installing the agent",
        "Configuring SSO",
        "Release notes 4.2",
        "Troubleshooting exports",
    ]
    .iter()
    .enumerate()
    .map(|(i, title)| {
        json!({"id": (19 + i).to_string(), "type": "external_page", "title": title,
                   "html": format!("<h1>{title}</h1><p>From the docs site.</p>"),
                   "url": format!("https://docs.acme.example/{}", 100 + i),
                   "ai_agent_availability": true, "ai_copilot_availability": i % 2 == 0,
                   "ai_sales_agent_availability": false, "fin_availability": i != 3,
                   "locale": "en", "source_id": 33, "external_id": format!("doc-{}", 100 + i),
                   "created_at": at(120 - i as i64 * 9), "updated_at": at(12 - i as i64),
                   "last_ingested_at": at(12 - i as i64)})
    })
    .collect();
    let people: Vec<u64> = store.admins.iter().map(|a| a.id).collect();
    store.internal_articles = [
        "Refund approval policy",
        "Escalation matrix",
        "VIP customer handling",
        "Known issues this week",
        "Macros style guide",
    ]
    .iter()
    .enumerate()
    .map(|(i, title)| {
        json!({"type": "internal_article", "id": (39 + i).to_string(), "title": title,
                   "body": format!("<p>{title}: for the support team only.</p>"),
                   "owner_id": people[i % people.len().max(1)],
                   "author_id": people[(i + 1) % people.len().max(1)], "locale": "en",
                   "created_at": at(100 - i as i64 * 4), "updated_at": at(9 - i as i64)})
    })
    .collect();
}

/// Phone calls on some conversations, from the seed's fixed clock (no randomness: no other
/// seeded value moved).
fn seed_calls(store: &mut Store) {
    let admins: Vec<u64> = store.admins.iter().map(|a| a.id).collect();
    let conversations: Vec<(u64, Option<String>)> = store
        .conversations
        .iter()
        .take(40)
        .map(|c| {
            let contact = c
                .contacts
                .first()
                .and_then(|&i| store.contacts.get(i as usize));
            (c.id, contact.map(|c| c.id.clone()))
        })
        .collect();
    store.calls = conversations
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 1)
        .map(|(i, (conversation, contact))| {
            let id = (123 + i as u64).to_string();
            let start = SEED_NOW - (60 - i as i64) * DAY / 2;
            let answered = i % 7 != 5;
            let (state, reason) = if answered { ("completed", "answered") } else { ("missed", "no_answer") };
            let url = |kind: &str| format!("https://api.intercom.io/calls/{id}/{kind}");
            let mut call = json!({
                "type": "call", "id": id, "conversation_id": conversation.to_string(),
                "admin_id": if answered { json!(admins[i % admins.len().max(1)].to_string()) } else { json!(null) },
                "contact_id": contact, "state": state,
                "initiated_at": start, "answered_at": if answered { json!(start + 4) } else { json!(null) },
                "ended_at": start + if answered { 95 + i as i64 * 7 } else { 30 },
                "created_at": start, "updated_at": start + 120,
                "recording_url": if answered { json!(url("recording")) } else { json!(null) },
                "transcription_url": if answered { json!(url("transcript")) } else { json!(null) },
                "call_type": "phone", "direction": if i % 2 == 0 { "inbound" } else { "outbound" },
                "ended_reason": reason, "phone": format!("+1555{:07}", 1000 + i),
                "fin_recording_url": null, "fin_transcription_url": null,
            });
            // A call nobody answered has no answered_at (the spec's `datetime` is not nullable).
            if !answered && let Some(map) = call.as_object_mut() {
                map.remove("answered_at");
            }
            call
        })
        .collect();
}

/// Fin Voice calls: some matched to conversations (two on the first), one only registered.
fn seed_fin_voice(store: &mut Store) {
    let conversations: Vec<u64> = store.conversations.iter().take(3).map(|c| c.id).collect();
    let matched = [0usize, 0, 1, 2];
    store.fin_voice_calls = (0..5)
        .map(|i| {
            let conversation = matched.get(i).and_then(|&c| conversations.get(c));
            let done = conversation.is_some();
            json!({
                "id": 12_340 + i as i64, "app_id": 12_345,
                "user_phone_number": format!("+1555020{:04}", 100 + i),
                "status": if done { "resolved" } else { "registered" },
                "intercom_call_id": if done { json!((900 + i).to_string()) } else { json!(null) },
                "external_call_id": format!("aws-call-{}", 700 + i),
                "intercom_conversation_id": conversation.map(|c| c.to_string()),
                "call_transcript": if done { json!([{"speaker": "user", "text": "I need a refund."}, {"speaker": "fin", "text": "I can help with that."}]) } else { json!([]) },
                "call_summary": if done { "Customer asked for a refund; Fin explained the policy." } else { "" },
                "intent": if done { json!([{"name": "refund"}]) } else { json!([]) },
            })
        })
        .collect();
}

/// Two workflows to export (`GET /export/workflows/{id}`).
fn seed_workflows(store: &mut Store) {
    let iso = |days: i64| {
        chrono::DateTime::from_timestamp(SEED_NOW - days * DAY, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    store.workflows = [
        (
            "67890",
            "Route billing questions",
            "inbound_conversation",
            "live",
        ),
        ("67891", "Welcome new trials", "user_created", "draft"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (id, title, trigger, state))| {
        json!({"id": id, "title": title, "description": format!("{title}, step by step."),
                   "trigger_type": trigger, "state": state, "target_channels": ["chat"],
                   "preferred_devices": ["desktop", "mobile"],
                   "created_at": iso(200 - i as i64), "updated_at": iso(10 - i as i64),
                   "targeting": {}, "snapshot": {"steps": [{"type": "send_message"}]},
                   "attributes": [], "embedded_rules": []})
    })
    .collect();
}

/// A few `Order` instances (the emulated workspace's custom object types are `Order` and
/// `Subscription`).
fn seed_custom_objects(store: &mut Store) {
    store.custom_objects = (0..4)
        .map(|i| {
            json!({
                "id": (22 + i).to_string(), "type": "Order",
                "external_id": format!("ORD-{}", 1000 + i),
                "external_created_at": SEED_NOW - (30 - i) * DAY,
                "external_updated_at": SEED_NOW - (10 - i) * DAY,
                "custom_attributes": {"order_number": format!("ORDER-{}", 1000 + i),
                                      "total_amount": 49.5 + i as f64 * 10.0},
                "created_at": SEED_NOW - (29 - i) * DAY, "updated_at": SEED_NOW - (9 - i) * DAY,
            })
        })
        .collect();
}
