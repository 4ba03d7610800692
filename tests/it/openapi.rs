//! A response validator for the Intercom OpenAPI 2.15 description, used to hold the emulator
//! to the official spec.
//!
//! The spec itself is not vendored: `tests/fixtures/intercom-openapi-2.15-extract.json` is a
//! machine-made extract (paths, methods, response schemas, `components.schemas`; prose removed)
//! written by `tools/extract_openapi.py`. `$ref`s are kept and resolved here.
//!
//! Supported OpenAPI 3.0 subset: `type` (object, array, string, integer, number, boolean),
//! `nullable` (also as a sibling of `$ref`, as the spec uses it), `properties`, `required`,
//! `items`, `enum`, `$ref`, `allOf`, `oneOf`/`anyOf` (valid if any branch validates),
//! `additionalProperties` (bool or schema), `maxItems`/`minItems`, `minLength`/`maxLength`.
//! `format` is informational and not checked. A schema without `type` but with `properties`
//! or `required` is treated as an object schema (the spec writes `error.errors[]` that way).
//!
//! Null handling follows OpenAPI 3.0, not JSON Schema: `null` is valid only where the schema
//! (or the `$ref` it points through) says `nullable: true`, or where the schema constrains
//! nothing at all (`{}`).
//!
//! Known spec-vs-reality conflicts (docs/docs/intercom-notes.md, "Where the schema and the examples
//! disagree", and the custom-attribute value types in docs/intercom-notes.md, "Custom attributes")
//! are accepted through the explicit [`KNOWN_CONFLICTS`] allow-list; nothing else is relaxed.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The extract, compiled into the test binary so the tests do not depend on the working directory.
const EXTRACT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/intercom-openapi-2.15-extract.json"
));

/// Prefix of every `$ref` in the extract.
const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Where a known conflict applies.
#[derive(Debug, Clone, Copy)]
pub enum Site {
    /// The whole body of one documented response.
    Response {
        method: &'static str,
        template: &'static str,
        status: &'static str,
    },
    /// Every use of a named component schema (reached through `$ref`).
    Schema(&'static str),
    /// One property of a named component schema.
    Property {
        schema: &'static str,
        property: &'static str,
    },
}

/// One documented spec-vs-reality conflict: at `site`, a value that fails the spec's schema is
/// still accepted if it validates against `also_accept` (an inline schema in JSON text, which may
/// `$ref` components).
#[derive(Debug, Clone, Copy)]
pub struct KnownConflict {
    pub site: Site,
    pub also_accept: &'static str,
    pub reason: &'static str,
}

/// The allow-list: exactly the conflicts listed in docs/docs/intercom-notes.md, "Where the schema
/// and the examples disagree" that concern response bodies, plus the custom-attribute value types
/// (docs/intercom-notes.md, "Custom attributes"). Request-only conflicts
/// (`create_message_request.message_type`, search operators, page-size prose) cannot occur in a
/// response and are not listed. Each entry accepts the *documented real* shape in addition to the
/// schema's, never "anything".
///
/// Schema/example conflicts (docs/intercom-notes.md, "Where the schema and the examples
/// disagree") that need no entry because the schema already tolerates the real shape
/// (no `required`, extra keys allowed): `article_statistics.conversations` (spelled
/// `conversions` in the schema), `visitor.last_request_at` (typo `las_request_at`), and the extra
/// contact/conversation fields seen in examples (`utm_*`, `referrer`, `topics`, `ticket`, …).
pub const KNOWN_CONFLICTS: &[KnownConflict] = &[
    // docs/intercom-notes.md, "Where the schema and the examples disagree":
    // `collectFinVoiceCallByPhoneNumber` documents no 200 answer (only 401, 404 and an error
    // `default`), though its description says it returns the call, like its siblings.
    KnownConflict {
        site: Site::Response {
            method: "get",
            template: "/fin_voice/phone_number/{phone_number}",
            // Its 200 answer is checked against the error `default`.
            status: "default",
        },
        also_accept: r##"{"$ref":"#/components/schemas/ai_call_response"}"##,
        reason: "GET /fin_voice/phone_number/{phone_number} answers the call (no 200 documented)",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "GET /companies 200
    // schema is company_list but exact lookups return a single company" (`?company_id=` /
    // `?name=`).
    KnownConflict {
        site: Site::Response {
            method: "get",
            template: "/companies",
            status: "200",
        },
        also_accept: r##"{"$ref":"#/components/schemas/company"}"##,
        reason: "GET /companies?company_id= returns a single company",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": GET /events is
    // described as a summary, which it is only with `summary=true`.
    KnownConflict {
        site: Site::Response {
            method: "get",
            template: "/events",
            status: "200",
        },
        also_accept: r##"{"$ref":"#/components/schemas/data_event_list"}"##,
        reason: "GET /events without summary=true returns an event.list",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree":
    // "contact_attached_companies: schema key `companies`, example key `data`".
    KnownConflict {
        site: Site::Schema("contact_attached_companies"),
        also_accept: r##"{"type":"object","required":["data"],"properties":{
            "type":{"type":"string","enum":["list"]},
            "data":{"type":"array","items":{"$ref":"#/components/schemas/company"}},
            "total_count":{"type":"integer"},
            "pages":{"$ref":"#/components/schemas/pages_link"}}}"##,
        reason: "contact_attached_companies lists items under `data` (example) not `companies`",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree":
    // "ticket_type.ticket_type_attributes: schema {type:"ticket_type_attributes.list",
    // ticket_type_attributes:[…]}, example {type:"list", data:[…]}".
    KnownConflict {
        site: Site::Property {
            schema: "ticket_type",
            property: "ticket_type_attributes",
        },
        also_accept: r##"{"type":"object","required":["data"],"properties":{
            "type":{"type":"string"},
            "data":{"type":"array","items":{"$ref":"#/components/schemas/ticket_type_attribute"}}}}"##,
        reason: "ticket_type.ticket_type_attributes is {type:list, data:[…]} in the examples",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "POST
    // /conversations/{id}/customers and its DELETE: schema says conversation, example returns
    // {customers:[…]}".
    KnownConflict {
        site: Site::Response {
            method: "post",
            template: "/conversations/{conversation_id}/customers",
            status: "200",
        },
        also_accept: r##"{"type":"object","required":["customers"],"properties":{
            "customers":{"type":"array","items":{"$ref":"#/components/schemas/contact_reference"}}}}"##,
        reason: "attaching a conversation customer returns {customers:[…]}",
    },
    KnownConflict {
        site: Site::Response {
            method: "delete",
            template: "/conversations/{conversation_id}/customers/{contact_id}",
            status: "200",
        },
        also_accept: r##"{"type":"object","required":["customers"],"properties":{
            "customers":{"type":"array","items":{"$ref":"#/components/schemas/contact_reference"}}}}"##,
        reason: "detaching a conversation customer returns {customers:[…]}",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree":
    // "admin.away_status_reason_id: schema int, example string".
    KnownConflict {
        site: Site::Property {
            schema: "admin",
            property: "away_status_reason_id",
        },
        also_accept: r##"{"type":"string","nullable":true}"##,
        reason: "admin.away_status_reason_id is a string in the examples",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "admin.avatar: schema
    // URI string, examples an object" ({type:"avatar", image_url}).
    KnownConflict {
        site: Site::Property {
            schema: "admin",
            property: "avatar",
        },
        also_accept: r##"{"type":"object","nullable":true,"properties":{
            "type":{"type":"string"},"image_url":{"type":"string","nullable":true}}}"##,
        reason: "admin.avatar is an object {type, image_url} in the examples",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "conversation_part.id:
    // schema string, one example uses integers".
    KnownConflict {
        site: Site::Property {
            schema: "conversation_part",
            property: "id",
        },
        also_accept: r##"{"type":"integer"}"##,
        reason: "conversation_part.id is an integer in one example",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "data_attribute.model
    // enum lacks conversation although the list filter accepts it".
    KnownConflict {
        site: Site::Property {
            schema: "data_attribute",
            property: "model",
        },
        also_accept: r##"{"type":"string","enum":["contact","company","conversation"]}"##,
        reason: "data_attribute.model may be `conversation`",
    },
    // docs/intercom-notes.md, "Where the schema and the examples disagree": "data_type enum lacks
    // datetime/options that creation accepts".
    KnownConflict {
        site: Site::Property {
            schema: "data_attribute",
            property: "data_type",
        },
        also_accept: r##"{"type":"string","enum":["string","integer","float","boolean","date","datetime","options"]}"##,
        reason: "data_attribute.data_type may be `datetime` or `options`",
    },
    // docs/intercom-notes.md, "Custom attributes": company custom attributes hold str, int, num
    // (float), bool and date (ts int) values, as their `data_attribute.data_type`
    // (string/integer/float/boolean/date) says; the schema types every value as a string. Scalars
    // only: no arrays or objects.
    KnownConflict {
        site: Site::Property {
            schema: "company",
            property: "custom_attributes",
        },
        also_accept: r##"{"type":"object","additionalProperties":{"anyOf":[
            {"type":"string"},{"type":"integer"},{"type":"number"},{"type":"boolean"}]}}"##,
        reason: "company.custom_attributes values may be integer, number or boolean (docs/intercom-notes.md, 'Custom attributes')",
    },
    // docs/intercom-notes.md, "Custom attributes": conversation custom attributes also hold num
    // (float) and bool values; the schema (`custom_attributes`) allows string | integer | datetime | custom_object_instance_list.
    // The alternative is the schema's own branches plus number and boolean. Both the full
    // conversation and the list item carry it.
    KnownConflict {
        site: Site::Property {
            schema: "conversation",
            property: "custom_attributes",
        },
        also_accept: CONVERSATION_CUSTOM_ATTRIBUTES,
        reason: "conversation.custom_attributes values may be number or boolean (docs/intercom-notes.md, 'Custom attributes')",
    },
    KnownConflict {
        site: Site::Property {
            schema: "conversation_list_item",
            property: "custom_attributes",
        },
        also_accept: CONVERSATION_CUSTOM_ATTRIBUTES,
        reason: "conversation.custom_attributes values may be number or boolean (docs/intercom-notes.md, 'Custom attributes')",
    },
];

/// `custom_attributes` of a conversation as real workspaces return it (docs/intercom-notes.md,
/// "Custom attributes"): the spec's value types plus `number` and `boolean`.
const CONVERSATION_CUSTOM_ATTRIBUTES: &str = r##"{"type":"object","additionalProperties":{"anyOf":[
    {"type":"string"},{"type":"integer"},{"type":"number"},{"type":"boolean"},
    {"$ref":"#/components/schemas/datetime"},
    {"$ref":"#/components/schemas/custom_object_instance_list"}]}}"##;

/// One path segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Literal(String),
    Param,
}

fn parse_template(template: &str) -> Vec<Seg> {
    template
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Seg::Param
            } else {
                Seg::Literal(s.to_string())
            }
        })
        .collect()
}

/// Concrete path segments, with any query string removed.
fn concrete_segments(path: &str) -> Vec<&str> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// The template among `templates` that matches the concrete `path` (query string ignored),
/// preferring literal segments over parameters from left to right, so `/contacts/search` beats
/// `/contacts/{contact_id}`.
pub fn best_template<'t>(
    templates: impl IntoIterator<Item = &'t str>,
    path: &str,
) -> Option<&'t str> {
    let segs = concrete_segments(path);
    let mut best: Option<(Vec<bool>, &str)> = None;
    for template in templates {
        let pattern = parse_template(template);
        if pattern.len() != segs.len() {
            continue;
        }
        let fits = pattern.iter().zip(&segs).all(|(p, s)| match p {
            Seg::Literal(l) => l == s,
            Seg::Param => true,
        });
        if !fits {
            continue;
        }
        // `true` = literal; the lexicographic maximum prefers literals at the earliest position.
        let score: Vec<bool> = pattern
            .iter()
            .map(|p| matches!(p, Seg::Literal(_)))
            .collect();
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, template));
        }
    }
    best.map(|(_, template)| template)
}

/// True if two templates have the same shape, whatever their parameter names
/// (`/contacts/{id}` and `/contacts/{contact_id}`).
pub fn same_template(a: &str, b: &str) -> bool {
    parse_template(a) == parse_template(b)
}

/// The loaded extract with its path templates pre-parsed.
pub struct Spec {
    doc: Value,
    templates: Vec<(String, Vec<Seg>)>,
    conflicts: Vec<(KnownConflict, Value)>,
}

/// One operation (method + path template) of the spec.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'s> {
    pub template: &'s str,
    pub method: &'s str,
    responses: &'s Map<String, Value>,
}

impl<'s> Operation<'s> {
    /// The documented statuses of this operation ("200", "404", "default", …).
    pub fn statuses(&self) -> Vec<&'s str> {
        self.responses.keys().map(String::as_str).collect()
    }

    /// The response schema for `status`: `None` if the status is not documented (nor a
    /// `default`), `Some(None)` if it is documented without a JSON body schema.
    pub fn response_schema(&self, status: u16) -> Option<Option<&'s Value>> {
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let found = self
            .responses
            .get(&exact)
            .or_else(|| self.responses.get(&class))
            .or_else(|| self.responses.get("default"))?;
        Some(if found.is_null() { None } else { Some(found) })
    }
}

/// How a JSON value was accepted: the allow-list entries that were needed, if any.
#[derive(Debug, Default, Clone)]
pub struct Accepted {
    pub conflicts_used: BTreeSet<&'static str>,
}

/// Validation failure: one line per problem, each starting with its JSON path.
#[derive(Debug, Clone)]
pub struct Invalid(pub Vec<String>);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.join("\n"))
    }
}

/// Mutable state of one validation run.
#[derive(Default)]
struct Run {
    errors: Vec<String>,
    used: BTreeSet<&'static str>,
    depth: usize,
}

/// Guard against `$ref` cycles in malformed specs.
const MAX_DEPTH: usize = 64;

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Short rendering of a value for error messages.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn child_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_string()))
    }
}

fn matches_type(expected: &str, value: &Value) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        // JSON Schema semantics: 3.0 is an integer, 3.5 is not.
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        _ => true,
    }
}

impl Spec {
    /// The committed extract, parsed once per test binary.
    pub fn global() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let doc: Value = serde_json::from_str(EXTRACT).expect("extract is valid JSON");
            Spec::new(doc, KNOWN_CONFLICTS)
        })
    }

    /// A spec from any document of the extract's layout (`{"paths":…, "schemas":…}`).
    pub fn new(doc: Value, conflicts: &[KnownConflict]) -> Spec {
        let templates = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|t| (t.clone(), parse_template(t)))
                    .collect()
            })
            .unwrap_or_default();
        let conflicts = conflicts
            .iter()
            .map(|c| {
                let schema = serde_json::from_str(c.also_accept)
                    .unwrap_or_else(|e| panic!("allow-list schema for {}: {e}", c.reason));
                (*c, schema)
            })
            .collect();
        Spec {
            doc,
            templates,
            conflicts,
        }
    }

    /// A named component schema.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc["schemas"].get(name)
    }

    /// All (METHOD, template) pairs in the spec, methods upper-case.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(paths) = self.doc["paths"].as_object() {
            for (template, methods) in paths {
                if let Some(methods) = methods.as_object() {
                    for method in methods.keys() {
                        out.push((method.to_uppercase(), template.clone()));
                    }
                }
            }
        }
        out
    }

    fn operation_at(&self, method: &str, template: &str) -> Option<Operation<'_>> {
        let (template, methods) = self.doc["paths"].as_object()?.get_key_value(template)?;
        let (method, responses) = methods
            .as_object()?
            .get_key_value(&method.to_ascii_lowercase())?;
        Some(Operation {
            template,
            method,
            responses: responses.as_object()?,
        })
    }

    /// The spec operation for a concrete request path (`/contacts/abc?x=1`). Among templates that
    /// match, literal segments win over parameters (see [`best_template`]). Only templates that
    /// document `method` are considered.
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let candidates = self
            .templates
            .iter()
            .map(|(t, _)| t.as_str())
            .filter(|t| self.operation_at(method, t).is_some());
        let template = best_template(candidates, path)?;
        self.operation_at(method, template)
    }

    /// The spec operation for a path *template*, matching parameter positions regardless of the
    /// parameter names (`/contacts/{id}` finds `/contacts/{contact_id}`).
    pub fn operation_for_template(&self, method: &str, template: &str) -> Option<Operation<'_>> {
        let wanted = parse_template(template);
        self.templates
            .iter()
            .filter(|(_, pattern)| *pattern == wanted)
            .find_map(|(t, _)| self.operation_at(method, t))
    }

    /// Validate `value` against `schema` (which may `$ref` components). Allow-list entries for
    /// `Schema` and `Property` sites apply.
    pub fn validate(&self, schema: &Value, value: &Value) -> Result<Accepted, Invalid> {
        let mut run = Run::default();
        self.check(schema, value, "$", None, &mut run);
        if run.errors.is_empty() {
            Ok(Accepted {
                conflicts_used: run.used,
            })
        } else {
            Err(Invalid(run.errors))
        }
    }

    /// Validate the body of a response to `method path` with `status` against the spec.
    /// Errors if the operation or status is undocumented; a documented status without a JSON
    /// schema accepts any body.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<Accepted, Invalid> {
        let op = self
            .operation(method, path)
            .ok_or_else(|| Invalid(vec![format!("{method} {path}: no such operation in spec")]))?;
        let schema = op.response_schema(status).ok_or_else(|| {
            Invalid(vec![format!(
                "{method} {}: status {status} not documented (spec has {:?})",
                op.template,
                op.statuses()
            )])
        })?;
        let Some(schema) = schema else {
            return Ok(Accepted::default());
        };
        match self.validate(schema, body) {
            Ok(accepted) => Ok(accepted),
            Err(errors) => {
                let status_text = status.to_string();
                for (conflict, alternative) in &self.conflicts {
                    if let Site::Response {
                        method: m,
                        template: t,
                        status: s,
                    } = conflict.site
                        && m.eq_ignore_ascii_case(op.method)
                        && t == op.template
                        // An entry on `default` covers a status the operation does not document.
                        && (s == status_text
                            || (s == "default" && !op.statuses().contains(&status_text.as_str())))
                        && let Ok(mut accepted) = self.validate(alternative, body)
                    {
                        accepted.conflicts_used.insert(conflict.reason);
                        return Ok(accepted);
                    }
                }
                Err(errors)
            }
        }
    }

    fn resolve<'a>(&'a self, reference: &str) -> Option<(&'a str, &'a Value)> {
        let name = reference.strip_prefix(SCHEMA_REF_PREFIX)?;
        let (name, schema) = self.doc["schemas"].as_object()?.get_key_value(name)?;
        Some((name.as_str(), schema))
    }

    /// Run `f` in a fresh sub-run; return its errors and merge its allowance use on success.
    fn attempt(&self, run: &mut Run, f: impl FnOnce(&mut Run)) -> Vec<String> {
        let mut sub = Run {
            depth: run.depth,
            ..Run::default()
        };
        f(&mut sub);
        if sub.errors.is_empty() {
            run.used.extend(sub.used);
        }
        sub.errors
    }

    /// Try the allow-list alternatives registered for `site_matches` after `errors` occurred.
    /// Returns true if one accepted the value.
    fn try_conflicts(
        &self,
        value: &Value,
        path: &str,
        run: &mut Run,
        site_matches: impl Fn(&Site) -> bool,
    ) -> bool {
        for (conflict, alternative) in &self.conflicts {
            if !site_matches(&conflict.site) {
                continue;
            }
            let errors = self.attempt(run, |sub| self.check(alternative, value, path, None, sub));
            if errors.is_empty() {
                run.used.insert(conflict.reason);
                return true;
            }
        }
        false
    }

    /// The core walk. `owner` is the component schema name whose own keywords `schema` is (set
    /// when reached through a `$ref`), used for `Property` allow-list sites.
    fn check(&self, schema: &Value, value: &Value, path: &str, owner: Option<&str>, run: &mut Run) {
        let Some(obj) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                run.errors.push(format!("{path}: no value allowed here"));
            }
            return;
        };
        if run.depth > MAX_DEPTH {
            run.errors
                .push(format!("{path}: schema nesting deeper than {MAX_DEPTH}"));
            return;
        }
        let nullable = obj.get("nullable") == Some(&Value::Bool(true));
        if value.is_null() && nullable {
            return;
        }

        // `$ref` (siblings other than `nullable` are ignored, as in OpenAPI 3.0).
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let Some((name, target)) = self.resolve(reference) else {
                run.errors
                    .push(format!("{path}: unresolvable $ref {reference}"));
                return;
            };
            run.depth += 1;
            let errors = self.attempt(run, |sub| self.check(target, value, path, Some(name), sub));
            run.depth -= 1;
            if !errors.is_empty()
                && !self.try_conflicts(
                    value,
                    path,
                    run,
                    |s| matches!(s, Site::Schema(n) if *n == name),
                )
            {
                run.errors.extend(errors);
            }
            return;
        }

        let declared_type = obj.get("type").and_then(Value::as_str);
        let inferred_type = declared_type.or_else(|| {
            (obj.contains_key("properties") || obj.contains_key("required")).then_some("object")
        });

        if value.is_null() {
            if let Some(t) = inferred_type {
                run.errors
                    .push(format!("{path}: expected {t}, got null (not nullable)"));
                return;
            }
            if obj.contains_key("enum") {
                run.errors
                    .push(format!("{path}: null is not in enum (not nullable)"));
                return;
            }
            // Composite or unconstrained schema: the branches decide below.
        }

        if let Some(t) = inferred_type
            && !matches_type(t, value)
        {
            run.errors.push(format!(
                "{path}: expected {t}, got {} {}",
                type_name(value),
                show(value)
            ));
            return;
        }

        if let Some(options) = obj.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            run.errors.push(format!(
                "{path}: {} is not one of {}",
                show(value),
                show(&Value::Array(options.clone()))
            ));
        }

        if let Value::String(s) = value {
            let len = s.chars().count() as u64;
            if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                run.errors
                    .push(format!("{path}: string shorter than minLength {min}"));
            }
            if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                run.errors
                    .push(format!("{path}: string longer than maxLength {max}"));
            }
        }

        if let Value::Array(items) = value {
            if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                run.errors.push(format!(
                    "{path}: {} items, more than maxItems {max}",
                    items.len()
                ));
            }
            if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                run.errors.push(format!(
                    "{path}: {} items, fewer than minItems {min}",
                    items.len()
                ));
            }
            if let Some(item_schema) = obj.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check(item_schema, item, &format!("{path}[{i}]"), None, run);
                }
            }
        }

        if let Value::Object(fields) = value {
            self.check_object(obj, fields, path, owner, run);
        }

        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.check(branch, value, path, None, run);
            }
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(branches) = obj.get(keyword).and_then(Value::as_array) {
                self.check_any(keyword, branches, value, path, run);
            }
        }
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        fields: &Map<String, Value>,
        path: &str,
        owner: Option<&str>,
        run: &mut Run,
    ) {
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    run.errors
                        .push(format!("{path}: missing required property `{name}`"));
                }
            }
        }
        let properties = obj.get("properties").and_then(Value::as_object);
        for (key, field) in fields {
            let field_path = child_key(path, key);
            if let Some(prop_schema) = properties.and_then(|p| p.get(key)) {
                let errors = self.attempt(run, |sub| {
                    self.check(prop_schema, field, &field_path, None, sub)
                });
                if errors.is_empty() {
                    continue;
                }
                let relaxed = owner.is_some_and(|owner| {
                    self.try_conflicts(field, &field_path, run, |s| {
                        matches!(s, Site::Property { schema, property }
                            if *schema == owner && *property == key.as_str())
                    })
                });
                if !relaxed {
                    run.errors.extend(errors);
                }
                continue;
            }
            match obj.get("additionalProperties") {
                Some(Value::Bool(false)) => run
                    .errors
                    .push(format!("{field_path}: property not allowed by the schema")),
                Some(extra @ Value::Object(_)) => {
                    self.check(extra, field, &field_path, None, run);
                }
                _ => {}
            }
        }
    }

    fn check_any(
        &self,
        keyword: &str,
        branches: &[Value],
        value: &Value,
        path: &str,
        run: &mut Run,
    ) {
        let mut failures = Vec::new();
        for branch in branches {
            let errors = self.attempt(run, |sub| self.check(branch, value, path, None, sub));
            if errors.is_empty() {
                return;
            }
            failures.push(errors);
        }
        // Compact form when every branch failed on the value itself with a type mismatch:
        // `$.x: expected one of [string | integer], got boolean true`.
        let prefix = format!("{path}: expected ");
        let simple: Option<Vec<&str>> = failures
            .iter()
            .map(|errors| {
                let first = errors.first()?.strip_prefix(&prefix)?;
                first.rsplit_once(", got ").map(|(expected, _)| expected)
            })
            .collect();
        let message = match simple {
            Some(alternatives) => format!(
                "{path}: expected one of [{}], got {} {}",
                alternatives.join(" | "),
                type_name(value),
                show(value)
            ),
            None => {
                let mut message = format!(
                    "{path}: {} matches none of the {} {keyword} branches",
                    show(value),
                    branches.len()
                );
                for (i, errors) in failures.iter().enumerate() {
                    let first = errors.first().map(String::as_str).unwrap_or("?");
                    let _ = write!(message, "; branch {i}: {first}");
                }
                message
            }
        };
        run.errors.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small hand-written spec in the extract's layout.
    fn tiny() -> Spec {
        Spec::new(
            json!({
                "paths": {
                    "/contacts": {"get": {"200": {"$ref": "#/components/schemas/contact_list"}}},
                    "/contacts/{contact_id}": {
                        "get": {"200": {"$ref": "#/components/schemas/contact"},
                                "404": {"$ref": "#/components/schemas/error"}},
                        "delete": {"200": null}
                    },
                    "/contacts/search": {"post": {"200": {"$ref": "#/components/schemas/contact_list"}}},
                    "/contacts/{contact_id}/tags": {"get": {"200": {"type": "object"}}},
                    "/things/{a}/{b}": {"get": {"default": {"$ref": "#/components/schemas/error"}}}
                },
                "schemas": {
                    "location": {"type": "object", "nullable": true,
                                 "properties": {"city": {"type": "string", "nullable": true}}},
                    "contact": {
                        "type": "object",
                        "required": ["id", "role"],
                        "properties": {
                            "id": {"type": "string"},
                            "role": {"type": "string", "enum": ["user", "lead"]},
                            "age": {"type": "integer"},
                            "score": {"type": "number"},
                            "vip": {"type": "boolean"},
                            "name": {"type": "string"},
                            "nickname": {"type": "string", "nullable": true},
                            "location": {"$ref": "#/components/schemas/location"},
                            "owner": {"$ref": "#/components/schemas/contact_ref"},
                            "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                            "custom": {"type": "object", "additionalProperties": {"type": "string"}},
                            "strict": {"type": "object", "additionalProperties": false,
                                       "properties": {"a": {"type": "integer"}}},
                            "when": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
                        }
                    },
                    "contact_ref": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "contact_list": {
                        "type": "object",
                        "required": ["type", "data"],
                        "properties": {
                            "type": {"type": "string", "enum": ["list"]},
                            "data": {"type": "array", "items": {"$ref": "#/components/schemas/contact"}}
                        }
                    },
                    "error": {"type": "object", "required": ["type", "errors"],
                              "properties": {"type": {"type": "string"},
                                             "errors": {"type": "array",
                                                        "items": {"required": ["code"],
                                                                  "properties": {"code": {"type": "string"}}}}}},
                    "extended": {"allOf": [{"$ref": "#/components/schemas/contact_ref"},
                                           {"required": ["extra"], "properties": {"extra": {"type": "integer"}}}]},
                    "avatar_holder": {"type": "object", "properties": {"avatar": {"type": "string"}}}
                }
            }),
            &[
                KnownConflict {
                    site: Site::Property {
                        schema: "avatar_holder",
                        property: "avatar",
                    },
                    also_accept: r#"{"type":"object","required":["image_url"]}"#,
                    reason: "avatar object",
                },
                KnownConflict {
                    site: Site::Response {
                        method: "get",
                        template: "/contacts",
                        status: "200",
                    },
                    also_accept: r##"{"$ref":"#/components/schemas/contact"}"##,
                    reason: "single contact",
                },
            ],
        )
    }

    fn contact() -> Value {
        json!({"id": "1", "role": "user"})
    }

    fn check(spec: &Spec, name: &str, value: Value) -> Result<Accepted, Invalid> {
        spec.validate(
            &json!({"$ref": format!("#/components/schemas/{name}")}),
            &value,
        )
    }

    fn errors(spec: &Spec, name: &str, value: Value) -> String {
        match check(spec, name, value) {
            Ok(_) => panic!("expected {name} to be rejected"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_a_valid_object() {
        let spec = tiny();
        let mut full = contact();
        full.as_object_mut().unwrap().extend(
            json!({
                "age": 3, "score": 1.5, "vip": true, "name": "a", "nickname": null,
                "location": {"city": null}, "tags": ["x"], "custom": {"k": "v"},
                "strict": {"a": 1}, "when": 5, "unknown_key": [1, 2]
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        check(&spec, "contact", full).expect("valid");
        // a nullable $ref target may be null
        check(
            &spec,
            "contact",
            json!({"id": "1", "role": "lead", "location": null}),
        )
        .unwrap();
    }

    #[test]
    fn rejects_wrong_types_with_json_paths() {
        let spec = tiny();
        let e = errors(&spec, "contact", json!({"id": 42, "role": "user"}));
        assert_eq!(e, "$.id: expected string, got integer 42");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "age": "3"}),
        );
        assert!(e.contains("$.age: expected integer, got string"), "{e}");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "age": 2.5}),
        );
        assert!(e.contains("$.age: expected integer, got number"), "{e}");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "vip": 1}),
        );
        assert!(e.contains("$.vip: expected boolean"), "{e}");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "score": "1"}),
        );
        assert!(e.contains("$.score: expected number"), "{e}");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "tags": "x"}),
        );
        assert!(e.contains("$.tags: expected array"), "{e}");
        let e = errors(&spec, "contact", json!([1]));
        assert!(e.contains("$: expected object, got array"), "{e}");
        let e = errors(
            &spec,
            "contact_list",
            json!({"type": "list", "data": [contact(), contact(), {"id": "3", "role": "user", "location": {"city": 42}}]}),
        );
        assert_eq!(
            e,
            "$.data[2].location.city: expected string, got integer 42"
        );
        // integral floats are integers (JSON Schema semantics)
        check(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "age": 3.0}),
        )
        .unwrap();
    }

    #[test]
    fn rejects_missing_required_fields() {
        let spec = tiny();
        let e = errors(&spec, "contact", json!({"id": "1"}));
        assert_eq!(e, "$: missing required property `role`");
        // typeless schemas with properties/required are objects
        let e = errors(
            &spec,
            "error",
            json!({"type": "error.list", "errors": [{"message": "x"}]}),
        );
        assert_eq!(e, "$.errors[0]: missing required property `code`");
        let e = errors(
            &spec,
            "error",
            json!({"type": "error.list", "errors": ["x"]}),
        );
        assert!(e.contains("$.errors[0]: expected object"), "{e}");
    }

    #[test]
    fn rejects_bad_enums() {
        let spec = tiny();
        let e = errors(&spec, "contact", json!({"id": "1", "role": "admin"}));
        assert_eq!(e, r#"$.role: "admin" is not one of ["user","lead"]"#);
        let e = errors(&spec, "contact", json!({"id": "1", "role": null}));
        assert!(e.contains("$.role: expected string, got null"), "{e}");
    }

    #[test]
    fn accepts_null_only_where_nullable() {
        let spec = tiny();
        check(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "nickname": null}),
        )
        .unwrap();
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "name": null}),
        );
        assert_eq!(e, "$.name: expected string, got null (not nullable)");
        // the $ref target contact_ref is not nullable
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "owner": null}),
        );
        assert!(e.contains("$.owner: expected object, got null"), "{e}");
        // a whole body of null is not a contact
        assert!(check(&spec, "contact", Value::Null).is_err());
        // nullable as a sibling of $ref, as the spec writes it
        let sibling = json!({"$ref": "#/components/schemas/contact_ref", "nullable": true});
        spec.validate(&sibling, &Value::Null).unwrap();
        let plain = json!({"$ref": "#/components/schemas/contact_ref"});
        assert!(spec.validate(&plain, &Value::Null).is_err());
    }

    #[test]
    fn composite_schemas() {
        let spec = tiny();
        check(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "when": "2024-01-01"}),
        )
        .unwrap();
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "when": true}),
        );
        assert_eq!(
            e,
            "$.when: expected one of [string | integer], got boolean true"
        );
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "when": {"a": 1}}),
        );
        assert_eq!(
            e,
            r#"$.when: expected one of [string | integer], got object {"a":1}"#
        );
        // branches failing deeper than the value itself are listed one by one
        let either = json!({"oneOf": [
            {"type": "object", "required": ["a"]},
            {"type": "object", "required": ["b"]}]});
        let e = spec
            .validate(&either, &json!({"c": 1}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            r#"$: {"c":1} matches none of the 2 oneOf branches; branch 0: $: missing required property `a`; branch 1: $: missing required property `b`"#
        );
        spec.validate(&either, &json!({"b": 1})).unwrap();
        check(&spec, "extended", json!({"id": "1", "extra": 2})).unwrap();
        let e = errors(&spec, "extended", json!({"id": 1}));
        assert!(e.contains("$.id: expected string"), "{e}");
        assert!(e.contains("missing required property `extra`"), "{e}");
    }

    #[test]
    fn additional_properties_and_limits() {
        let spec = tiny();
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "custom": {"plan": 3}}),
        );
        assert!(
            e.contains("$.custom.plan: expected string, got integer 3"),
            "{e}"
        );
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "custom": {"Mithril Shirt": 3}}),
        );
        assert!(
            e.contains(r#"$.custom["Mithril Shirt"]: expected string"#),
            "{e}"
        );
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "strict": {"b": 1}}),
        );
        assert_eq!(e, "$.strict.b: property not allowed by the schema");
        let e = errors(
            &spec,
            "contact",
            json!({"id": "1", "role": "user", "tags": ["a", "b", "c"]}),
        );
        assert!(e.contains("more than maxItems 2"), "{e}");
    }

    #[test]
    fn unresolvable_refs_are_errors() {
        let spec = tiny();
        let e = spec
            .validate(&json!({"$ref": "#/components/schemas/nope"}), &json!({}))
            .unwrap_err();
        assert!(e.to_string().contains("unresolvable $ref"));
    }

    #[test]
    fn path_matching_prefers_literals() {
        let spec = tiny();
        let op = spec.operation("POST", "/contacts/search").unwrap();
        assert_eq!(op.template, "/contacts/search");
        let op = spec.operation("GET", "/contacts/abc?x=1").unwrap();
        assert_eq!(op.template, "/contacts/{contact_id}");
        // /contacts/search has no GET, so the parameter template applies
        let op = spec.operation("get", "/contacts/search").unwrap();
        assert_eq!(op.template, "/contacts/{contact_id}");
        assert_eq!(
            spec.operation("GET", "/contacts/abc/tags")
                .unwrap()
                .template,
            "/contacts/{contact_id}/tags"
        );
        assert!(spec.operation("PUT", "/contacts/abc").is_none());
        assert!(spec.operation("GET", "/contacts/abc/nope").is_none());
        let op = spec
            .operation_for_template("DELETE", "/contacts/{id}")
            .unwrap();
        assert_eq!(op.template, "/contacts/{contact_id}");
        assert!(
            spec.operation_for_template("GET", "/contacts/{id}/{x}")
                .is_none()
        );
    }

    #[test]
    fn responses_by_status() {
        let spec = tiny();
        spec.validate_response("GET", "/contacts/1", 200, &contact())
            .unwrap();
        let e = spec
            .validate_response("GET", "/contacts/1", 500, &json!({}))
            .unwrap_err();
        assert!(e.to_string().contains("status 500 not documented"), "{e}");
        spec.validate_response(
            "GET",
            "/contacts/1",
            404,
            &json!({"type": "error.list", "errors": [{"code": "not_found"}]}),
        )
        .unwrap();
        assert!(
            spec.validate_response("GET", "/contacts/1", 404, &json!({"errors": []}))
                .is_err()
        );
        // documented without a JSON schema: any body
        spec.validate_response("DELETE", "/contacts/1", 200, &json!("anything"))
            .unwrap();
        // `default` covers undocumented statuses
        assert!(
            spec.validate_response("GET", "/things/1/2", 503, &json!({"type": "x"}))
                .is_err()
        );
        spec.validate_response(
            "GET",
            "/things/1/2",
            503,
            &json!({"type": "x", "errors": []}),
        )
        .unwrap();
    }

    #[test]
    fn allow_list_is_narrow() {
        let spec = tiny();
        // property site: the documented alternative is accepted and reported
        let ok = check(
            &spec,
            "avatar_holder",
            json!({"avatar": {"image_url": "u"}}),
        )
        .unwrap();
        assert!(ok.conflicts_used.contains("avatar object"));
        check(&spec, "avatar_holder", json!({"avatar": "u"})).unwrap();
        // ...but not any other shape
        assert!(check(&spec, "avatar_holder", json!({"avatar": 3})).is_err());
        assert!(check(&spec, "avatar_holder", json!({"avatar": {"x": 1}})).is_err());
        // response site
        let ok = spec
            .validate_response("GET", "/contacts?email=x", 200, &contact())
            .unwrap();
        assert!(ok.conflicts_used.contains("single contact"));
        assert!(
            spec.validate_response("GET", "/contacts", 200, &json!({"id": 1}))
                .is_err()
        );
        // the same body on another route gets no relaxation
        assert!(
            spec.validate_response("POST", "/contacts/search", 200, &contact())
                .is_err()
        );
        assert!(
            spec.validate_response("POST", "/contacts/search", 200, &json!({"data": 1}))
                .is_err()
        );
    }

    /// docs/intercom-notes.md, "Custom attributes" custom-attribute value types: scalars accepted
    /// in `custom_attributes` of companies and conversations, nothing else relaxed.
    #[test]
    fn custom_attribute_conflicts_are_narrow() {
        let spec = Spec::global();
        let company =
            |custom: Value| json!({"type": "company", "id": "1", "custom_attributes": custom});
        let typed = json!({"tier": "gold", "founded_year": 2009, "score": 0.5, "enterprise": true});
        let ok = spec
            .validate_response("GET", "/companies/1", 200, &company(typed))
            .unwrap();
        assert_eq!(ok.conflicts_used.len(), 1, "{ok:?}");
        // string-only attributes need no allowance
        let ok = spec
            .validate_response(
                "GET",
                "/companies/1",
                200,
                &company(json!({"tier": "gold"})),
            )
            .unwrap();
        assert!(ok.conflicts_used.is_empty(), "{ok:?}");
        // scalars only: no arrays, objects or nulls
        for bad in [json!([1]), json!({"a": 1}), Value::Null] {
            assert!(
                spec.validate_response("GET", "/companies/1", 200, &company(json!({"x": bad})))
                    .is_err()
            );
        }
        // other company properties keep their types
        let e = spec
            .validate_response(
                "GET",
                "/companies/1",
                200,
                &json!({"type": "company", "id": "1", "name": true}),
            )
            .unwrap_err();
        assert!(e.to_string().contains("$.name: expected string"), "{e}");
        // other schemas with string-typed custom attributes get no relaxation
        let visitor = json!({"type": "visitor", "id": "1", "custom_attributes": {"vip": true}});
        assert!(
            spec.validate_response("GET", "/visitors?user_id=1", 200, &visitor)
                .is_err()
        );

        // conversations: the spec's own types plus number and boolean, in full and in lists
        let conversation = json!({"type": "conversation", "id": "1", "custom_attributes": {
            "escalated": false, "score": 4.5, "Issue type": "Billing", "seen": 1_700_000_000,
            "order": {"type": "Order.list", "instances": []}}});
        let ok = spec
            .validate_response("GET", "/conversations/1", 200, &conversation)
            .unwrap();
        assert_eq!(ok.conflicts_used.len(), 1, "{ok:?}");
        let list = json!({"type": "conversation.list", "conversations": [conversation]});
        spec.validate_response("GET", "/conversations", 200, &list)
            .unwrap();
        let nested = json!({"type": "conversation", "id": "1",
                            "custom_attributes": {"x": [true]}});
        assert!(
            spec.validate_response("GET", "/conversations/1", 200, &nested)
                .is_err()
        );
    }

    #[test]
    fn real_extract_loads_and_checks() {
        let spec = Spec::global();
        assert!(spec.operations().len() > 100);
        assert!(spec.schema("contact").is_some());
        // every $ref in the extract resolves
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r);
                    }
                    m.values().for_each(|x| refs(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&spec.doc, &mut all);
        assert!(all.len() > 500);
        for r in all {
            assert!(spec.resolve(r).is_some(), "dangling {r}");
        }
        for (conflict, alternative) in &spec.conflicts {
            let mut found = Vec::new();
            refs(alternative, &mut found);
            for r in found {
                assert!(
                    spec.resolve(r).is_some(),
                    "{}: dangling {r}",
                    conflict.reason
                );
            }
            if let Site::Schema(name) | Site::Property { schema: name, .. } = conflict.site {
                assert!(
                    spec.schema(name).is_some(),
                    "{}: no schema {name}",
                    conflict.reason
                );
            }
            if let Site::Property { schema, property } = conflict.site {
                assert!(
                    spec.schema(schema)
                        .and_then(|s| s["properties"].get(property))
                        .is_some(),
                    "{}: schema {schema} has no property {property}",
                    conflict.reason
                );
            }
            if let Site::Response {
                method,
                template,
                status,
            } = conflict.site
            {
                let op = spec.operation_at(method, template).expect(conflict.reason);
                assert!(op.statuses().contains(&status), "{}", conflict.reason);
            }
        }
        // the real error schema
        let error = json!({"type": "error.list", "request_id": null,
                           "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]});
        spec.validate_response("GET", "/contacts", 401, &error)
            .unwrap();
        assert!(
            spec.validate_response("GET", "/contacts", 401, &json!({"type": "error.list"}))
                .is_err()
        );
        // literal beats parameter on the real spec
        assert_eq!(
            spec.operation("POST", "/contacts/search").unwrap().template,
            "/contacts/search"
        );
        assert_eq!(
            spec.operation("GET", "/contacts/c1").unwrap().template,
            "/contacts/{contact_id}"
        );
        // a real schema rejects a wrong type deep inside
        let e = spec
            .validate_response(
                "GET",
                "/contacts/c1",
                200,
                &json!({"type": "contact", "id": "c1", "location": {"city": 42}}),
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("$.location.city: expected string, got integer 42"),
            "{e}"
        );
        // docs/intercom-notes.md, "Where the schema and the examples disagree": GET
        // /companies?company_id= returns one company
        let company = json!({"type": "company", "id": "1", "company_id": "acme", "name": "Acme"});
        let ok = spec
            .validate_response("GET", "/companies?company_id=acme", 200, &company)
            .unwrap();
        assert_eq!(ok.conflicts_used.len(), 1);
        // admin.avatar as an object
        let admin =
            json!({"type": "admin", "id": "1", "avatar": {"type": "avatar", "image_url": null}});
        let ok = spec
            .validate_response("GET", "/admins/1", 200, &admin)
            .unwrap();
        assert!(!ok.conflicts_used.is_empty());
        let admin = json!({"type": "admin", "id": "1", "avatar": 7});
        assert!(
            spec.validate_response("GET", "/admins/1", 200, &admin)
                .is_err()
        );
    }
}
