//! A list response's envelope: where its items are and everything else (`pages`,
//! `total_count`, `scroll_param` …) as a small JSON object, read in one pass that builds no
//! value per item. A scan's page is read by its structure (`structure.rs`), which also notes
//! each item's top-level members (key and value as byte ranges), so the scan's decoder finds
//! its columns without reading the item again; any other answer by serde_json, its items
//! found without their members.

use std::collections::HashMap;
use std::ops::Range;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::pagination::{ListRequest, Page, PageStyle, WHOLE_BODY};
use super::structure::{COMPACT, SPACED, Structure};
use super::{ApiRequest, ClientError, IntercomClient};

/// One item of a page: where its JSON text sits in the body, and which of the page's
/// [`Member`]s are its object's top-level members (an empty range when they were not noted:
/// the item's text is read instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The item's JSON text in the body.
    pub range: Range<usize>,
    /// Its members among the page's.
    pub members: Range<u32>,
    /// Whether its text is known to hold no backslash (no string in it has an escape: each
    /// string's text is the string).
    pub plain: bool,
}

impl Item {
    /// An item whose members were not noted.
    pub fn at(range: Range<usize>) -> Self {
        Self {
            range,
            members: 0..0,
            plain: false,
        }
    }

    /// The item's JSON text, in `body` (the page's text).
    pub fn text<'b>(&self, body: &'b str) -> &'b str {
        body.get(self.range.clone()).unwrap_or("null")
    }
}

/// A top-level member of an item's object: where its key's text (between the quotes; a key
/// with escapes is never noted) and its value's JSON text sit in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    key: (u32, u32),
    value: (u32, u32),
}

impl Member {
    /// The key, in `body` (the page's text).
    pub fn key<'b>(&self, body: &'b str) -> &'b str {
        body.get(self.key.0 as usize..self.key.1 as usize)
            .unwrap_or_default()
    }

    /// The value's JSON text, in `body` (the page's text).
    pub fn value<'b>(&self, body: &'b str) -> &'b str {
        body.get(self.value.0 as usize..self.value.1 as usize)
            .unwrap_or("null")
    }
}

/// A response split into its items and everything else except the items (`pages`,
/// `total_count`, `scroll_param` …) as a small JSON object.
pub(super) struct Envelope {
    pub(super) items: Vec<Item>,
    members: Vec<Member>,
    pub(super) rest: Value,
}

impl Envelope {
    /// Tells `client` the size of the collection `list` reads whole (a listing with no filter
    /// of its own), from this answer's `total_count` (a listing's first page: the others say
    /// the same).
    pub(super) fn note_total(&self, client: &IntercomClient, list: &ListRequest) {
        let whole = list.query.is_empty() && !matches!(list.style, PageStyle::Search { .. });
        if whole && let Some(total) = self.rest.get("total_count").and_then(Value::as_u64) {
            client.note_listed_total(&list.path, total);
        }
    }

    /// Counts this page (page `number` of its listing) for the shell's progress line.
    pub(super) fn note_progress(&self, client: &IntercomClient, path: &str, number: u64) {
        let total = (number == 1)
            .then(|| self.rest.get("total_count").and_then(Value::as_u64))
            .flatten();
        client.scan_progress().page(path, self.items.len(), total);
    }

    /// Page `number` of a stream: this envelope's items in `body`.
    pub(super) fn into_page(self, body: String, number: u64, more: bool) -> Page {
        Page {
            total_count: self.rest.get("total_count").and_then(Value::as_u64),
            items: self.items,
            members: self.members,
            number,
            body,
            more,
        }
    }
}

/// What a response held under a key that may hold the items.
enum Found<'a> {
    /// A list's items.
    Items(Vec<Item>),
    /// `null`: no items.
    Null,
    /// The JSON text of the value under a nested key's first segment (the items are further
    /// down).
    Nested(&'a RawValue),
    /// Anything else: no list here.
    NotList,
}

/// A response's top-level object: what it held under the keys that may hold the items, and
/// every other member as a value.
struct Top<'a> {
    found: HashMap<String, Found<'a>>,
    rest: serde_json::Map<String, Value>,
}

/// The body's text, where items are found.
struct Index<'t> {
    text: &'t str,
}

impl Index<'_> {
    /// The item whose text `raw` borrows from the body.
    fn item(&self, raw: &RawValue) -> Item {
        let start = raw.get().as_ptr() as usize - self.text.as_ptr() as usize;
        Item::at(start..start + raw.get().len())
    }
}

/// Reads a response's top-level object in one pass, for [`parse_envelope`]: `keys` are the
/// item keys, dotted for nested ones.
struct TopSeed<'k, 'i, 't> {
    keys: &'k [String],
    index: &'i Index<'t>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, '_> {
    type Value = Top<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Top<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, '_> {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Top<'de>, M::Error> {
        let mut top = Top {
            found: HashMap::new(),
            rest: serde_json::Map::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            let nested = self
                .keys
                .iter()
                .any(|k| k.split_once('.').is_some_and(|(first, _)| first == key));
            if nested {
                let raw: &'de RawValue = map.next_value()?;
                let found = if raw.get() == "null" {
                    Found::Null
                } else {
                    Found::Nested(raw)
                };
                top.found.insert(key, found);
            } else if self.keys.contains(&key) {
                let found = map.next_value_seed(ItemsSeed { index: self.index })?;
                top.found.insert(key, found);
            } else {
                let value: Value = map.next_value()?;
                top.rest.insert(key, value);
            }
        }
        Ok(top)
    }
}

/// The value under an item key: a list's items, found as the list is read, or what it was
/// instead.
struct ItemsSeed<'i, 't> {
    index: &'i Index<'t>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = Found<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Found<'de>, S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            items.push(self.index.item(raw));
        }
        Ok(Found::Items(items))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Found<'de>, E> {
        Ok(Found::Null)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Found<'de>, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Found::NotList)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Found<'de>, E> {
        Ok(Found::NotList)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Found<'de>, E> {
        Ok(Found::NotList)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Found<'de>, E> {
        Ok(Found::NotList)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Found<'de>, E> {
        Ok(Found::NotList)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Found<'de>, E> {
        Ok(Found::NotList)
    }
}

/// `bytes` as a `String`, checked to be UTF-8 by SIMD (simdutf8, several times std's speed
/// on a page's text); a failed check is made again by std, whose error says where and how.
pub(crate) fn utf8_string(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: just checked to be UTF-8.
        Ok(unsafe { String::from_utf8_unchecked(bytes) })
    } else {
        String::from_utf8(bytes)
    }
}

/// The text of `request`'s response `body`: its own buffer, checked to be UTF-8 (once: what
/// reads the page later trusts it). A body that ends inside a character was cut short.
pub(super) fn text_of(body: Bytes, request: &ApiRequest) -> Result<String, (ClientError, bool)> {
    utf8_string(Vec::from(body)).map_err(|e| {
        let cut_short = e.utf8_error().error_len().is_none();
        let error = ClientError::Decode {
            request: request.describe(),
            json_path: "$".into(),
            reason: format!("the response is not UTF-8: {}", e.utf8_error()),
        };
        (error, cut_short)
    })
}

/// The envelope found by the body's [`Structure`] (see there what it checks), for a list
/// under a top-level key whose items are objects with plain keys: every page of a scan.
/// `None` for anything else, or anything not well-formed: the serde_json pass reads the body
/// then, and says what is wrong with it.
fn by_structure(text: &str, keys: &[String]) -> Option<Envelope> {
    let plain = |key: &String| key != WHOLE_BODY && !key.contains('.');
    if !keys.iter().all(plain) || u32::try_from(text.len()).is_err() {
        return None;
    }
    let structure = Structure::of(text)?;
    let mut top = Vec::new();
    // A key with escapes is not its text: the serde_json pass reads the body then.
    let close = structure.members::<SPACED>(structure.skip_space(0), |key, value| {
        top.push((text.get(structure.plain(key)?)?, value));
        Some(())
    })?;
    if !structure.ends_after(close + 1) {
        return None;
    }
    // The first of `keys` that holds a list or null (a key given twice holds its last value).
    let list = keys.iter().find_map(|key| {
        let (_, value) = top.iter().rev().find(|(k, _)| k == key)?;
        match text.as_bytes().get(value.start)? {
            b'[' => Some(Some(value.start)),
            b'n' => Some(None),
            _ => None,
        }
    })?;
    let mut rest = serde_json::Map::new();
    for (key, value) in top {
        if !keys.iter().any(|k| k == key) {
            rest.insert(
                key.to_string(),
                serde_json::from_str(text.get(value)?).ok()?,
            );
        }
    }
    let (mut items, mut members) = (Vec::new(), Vec::new());
    if let Some(open) = list {
        // Intercom writes no whitespace between tokens: walked as such, and skipping it only
        // when that fails.
        if items_of::<COMPACT>(&structure, open, &mut items, &mut members).is_none() {
            items.clear();
            members.clear();
            items_of::<SPACED>(&structure, open, &mut items, &mut members)?;
        }
    }
    Some(Envelope {
        items,
        members,
        rest: Value::Object(rest),
    })
}

/// The items of the list whose `[` is at `open`, each an object with plain keys, and their
/// members, by a walk that skips whitespace between tokens (`S` is [`SPACED`]) or finds none.
fn items_of<const S: bool>(
    structure: &Structure,
    open: usize,
    items: &mut Vec<Item>,
    members: &mut Vec<Member>,
) -> Option<()> {
    structure.elements::<S>(open, |start| {
        let first = members.len();
        let close = structure.members::<S>(start, |key, value| {
            members.push(Member {
                key: (key.start as u32, key.end as u32),
                value: (value.start as u32, value.end as u32),
            });
            Some(())
        })?;
        let noted = &members[first..];
        // `{}`: nothing to note (the serde_json pass finds it without members).
        (!noted.is_empty()).then_some(())?;
        // A key with escapes is not its text (the serde_json pass reads the body then): looked
        // for key by key only in an item that has a backslash at all.
        let plain_key = |(start, end): (u32, u32)| structure.plain(start as usize..end as usize);
        let plain = structure.plain(start..close).is_some();
        if !plain && noted.iter().any(|member| plain_key(member.key).is_none()) {
            return None;
        }
        if items.is_empty() {
            // Room for as many items as the first's size fits in the list (pages hold items
            // alike), not regrown member by member: a tenth more.
            let fit = (structure.text_len() - start) / (close + 1 - start);
            items.reserve(fit + fit / 10);
            members.reserve((fit + fit / 10) * members.len());
        }
        items.push(Item {
            range: start..close + 1,
            members: first as u32..members.len() as u32,
            plain,
        });
        Some(close + 1)
    })?;
    Some(())
}

/// Finds the items in a list response without building a value per item: by the body's
/// structure when it is a scan's page (the common case; each item's top-level members noted
/// too), else by serde_json (`RawValue` borrows each item's text; members not noted: the
/// decoder reads such items from their text). On failure, the error and whether the body was
/// cut short (its JSON ends early: worth fetching again).
pub(super) fn parse_envelope(
    text: &str,
    keys: &[String],
    request: &ApiRequest,
) -> Result<Envelope, (ClientError, bool)> {
    match by_structure(text, keys) {
        Some(envelope) => Ok(envelope),
        None => by_serde(text, keys, request),
    }
}

/// [`parse_envelope`] by serde_json, reading every byte: any answer (its items' members not
/// noted), and what is wrong with one that is not well-formed.
fn by_serde(
    text: &str,
    keys: &[String],
    request: &ApiRequest,
) -> Result<Envelope, (ClientError, bool)> {
    let decode_error = |json_path: String, e: serde_json::Error| {
        let cut_short = e.classify() == serde_json::error::Category::Eof;
        let reason = if cut_short {
            format!("the response was cut short ({e})")
        } else {
            e.to_string()
        };
        let error = ClientError::Decode {
            request: request.describe(),
            json_path,
            reason,
        };
        (error, cut_short)
    };
    let index = Index { text };
    // A one-object answer (`GET /me`) is the one item; a bare array's items are the items
    // (`GET /fin_voice/conversation/{id}`).
    if keys.iter().any(|k| k == WHOLE_BODY) {
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| decode_error("$".into(), e))?;
        let items = match raw.get().as_bytes().first() {
            Some(b'{') => vec![index.item(raw)],
            Some(b'[') => {
                let list: Vec<&RawValue> =
                    serde_json::from_str(raw.get()).map_err(|e| decode_error("$".into(), e))?;
                list.iter().map(|item| index.item(item)).collect()
            }
            _ => {
                let error = ClientError::Decode {
                    request: request.describe(),
                    json_path: "$".into(),
                    reason: "expected an object or an array".to_string(),
                };
                return Err((error, false));
            }
        };
        return Ok(Envelope {
            items,
            members: Vec::new(),
            rest: Value::Object(serde_json::Map::new()),
        });
    }
    // One pass over the body: the items of a list key are found as they are read, the rest
    // kept as small values.
    let mut de = serde_json::Deserializer::from_str(text);
    let mut top = TopSeed {
        keys,
        index: &index,
    }
    .deserialize(&mut de)
    .and_then(|top| de.end().map(|()| top))
    .map_err(|e| decode_error("$".into(), e))?;
    let rest = Value::Object(top.rest);
    for key in keys {
        let first = key.split('.').next().unwrap_or_default();
        let Some(found) = top.found.get_mut(first) else {
            continue;
        };
        let items = match (found, key.split_once('.')) {
            (Found::Null, _) => Vec::new(),
            (Found::Items(list), None) => std::mem::take(list),
            // A key read for a nested one too (`data` and `data.articles`) holding the list.
            (Found::Nested(raw), None) if raw.get().starts_with('[') => {
                let list: Vec<&RawValue> = serde_json::from_str(raw.get())
                    .map_err(|e| decode_error(format!("$.{key}"), e))?;
                list.iter().map(|item| index.item(item)).collect()
            }
            // A nested key (`conversation_parts.conversation_parts`): walk down from here.
            (Found::Nested(raw), Some((_, path))) => {
                let mut node = Some(*raw);
                for part in path.split('.') {
                    node = match node {
                        Some(raw) if raw.get().starts_with('{') => {
                            let map: HashMap<&str, &RawValue> = serde_json::from_str(raw.get())
                                .map_err(|e| decode_error(format!("$.{key}"), e))?;
                            map.get(part).copied()
                        }
                        _ => None,
                    };
                }
                match node {
                    Some(raw) if raw.get() == "null" => Vec::new(),
                    Some(raw) if raw.get().starts_with('[') => {
                        let list: Vec<&RawValue> = serde_json::from_str(raw.get())
                            .map_err(|e| decode_error(format!("$.{key}"), e))?;
                        list.iter().map(|item| index.item(item)).collect()
                    }
                    _ => continue,
                }
            }
            _ => continue,
        };
        return Ok(Envelope {
            items,
            members: Vec::new(),
            rest,
        });
    }
    let error = ClientError::Decode {
        request: request.describe(),
        json_path: format!("$.{}", keys.join(" or $.")),
        reason: "expected a list of items".to_string(),
    };
    Err((error, false))
}

#[cfg(test)]
impl Page {
    /// The page `body` is, its items under `key` (for tests of what reads pages).
    pub(crate) fn parse(body: &str, key: &str) -> Page {
        let envelope = parse_envelope(body, &[key.to_string()], &ApiRequest::get("/x"))
            .unwrap_or_else(|(e, _)| panic!("{e}"));
        envelope.into_page(body.to_string(), 1, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw_items(body: &str, keys: &[String]) -> Result<(Vec<String>, Value), ClientError> {
        let envelope = parse_envelope(body, keys, &ApiRequest::get("/x")).map_err(|(e, _)| e)?;
        let items = envelope
            .items
            .into_iter()
            .map(|item| body[item.range].to_string())
            .collect();
        Ok((items, envelope.rest))
    }

    #[test]
    fn items_are_found_under_alternative_keys() {
        let keys = vec!["companies".to_string(), "data".to_string()];
        let body = r#"{"type":"list","data":[1, {"a": "x,]"}],"pages":{"next":null}}"#;
        let (items, rest) = raw_items(body, &keys).unwrap();
        assert_eq!(items, vec!["1".to_string(), r#"{"a": "x,]"}"#.to_string()]);
        assert_eq!(rest, json!({"type": "list", "pages": {"next": null}}));
        let nested = vec!["conversation_parts.conversation_parts".to_string()];
        let body = r#"{"id":"1","conversation_parts":{"conversation_parts":[{}]}}"#;
        let (items, _) = raw_items(body, &nested).unwrap();
        assert_eq!(items, vec!["{}".to_string()]);
        let (items, _) = raw_items(r#"{"data":null}"#, &keys).unwrap();
        assert!(items.is_empty());
        let err = raw_items(r#"{"nope":1}"#, &keys).unwrap_err();
        assert!(err.to_string().contains("$.companies or $.data"), "{err}");
        let err = raw_items("not json", &keys).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unexpected response from Intercom (GET /x)"),
            "{err}"
        );
    }

    /// Each item's text and its noted members as (key, value) texts.
    fn noted(body: &str) -> Vec<(String, Vec<(String, String)>)> {
        let envelope = parse_envelope(body, &["data".into()], &ApiRequest::get("/x"))
            .unwrap_or_else(|(e, _)| panic!("{e}"));
        let members = &envelope.members;
        envelope
            .items
            .iter()
            .map(|item| {
                let of = &members[item.members.start as usize..item.members.end as usize];
                let pairs = of
                    .iter()
                    .map(|m| (m.key(body).to_string(), m.value(body).to_string()))
                    .collect();
                (body[item.range.clone()].to_string(), pairs)
            })
            .collect()
    }

    #[test]
    fn members_are_noted_with_the_items() {
        let body = "{\"data\": [ {\"a\":1,\"b\" : {\"c\": [1, \"}\"]}} ,\n\t{ \"é\": \"x\\\"y\" ,\"a\":null\n}],\
                    \"pages\": {}}";
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            noted(body),
            vec![
                (
                    r#"{"a":1,"b" : {"c": [1, "}"]}}"#.to_string(),
                    pairs(&[("a", "1"), ("b", r#"{"c": [1, "}"]}"#)])
                ),
                (
                    "{ \"é\": \"x\\\"y\" ,\"a\":null\n}".to_string(),
                    pairs(&[("é", r#""x\"y""#), ("a", "null")])
                ),
            ]
        );
    }

    #[test]
    fn items_whose_members_cannot_be_noted_are_found_all_the_same() {
        // A key with escapes, an empty object, an item that is not an object: serde_json reads
        // the list and finds every item, none with members noted.
        for body in [
            r#"{"data":[{"a":1},{"b\u0041":2}]}"#,
            r#"{"data":[{"a":1},{}]}"#,
            r#"{"data":[{"a":1},[2]]}"#,
            r#"{"data":[{"a":1},"x"]}"#,
        ] {
            let items = noted(body);
            assert_eq!(items.len(), 2, "{body}");
            assert_eq!(items[0].0, r#"{"a":1}"#, "{body}");
            assert!(items.iter().all(|(_, m)| m.is_empty()), "{body}");
        }
        // Broken JSON is still an error.
        let err = parse_envelope(
            r#"{"data":[{"a":1},{"b\u0041":2]}"#,
            &["data".into()],
            &ApiRequest::get("/x"),
        );
        assert!(err.is_err());
    }

    #[test]
    fn pages_read_by_their_structure_are_read_as_serde_json_reads_them() {
        use super::super::structure::tests::{members_by_serde, random_value, spaced};
        let keys = ["data".to_string(), "companies".to_string()];
        let request = ApiRequest::get("/x");
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..500 {
            let items = (0..rng.usize(0..6))
                .map(|_| {
                    let members = (0..rng.usize(1..6))
                        .map(|n| {
                            let key = if rng.bool() { "k" } else { "é" };
                            (format!("{key}{n}"), random_value(&mut rng, 1))
                        })
                        .collect();
                    Value::Object(members)
                })
                .collect();
            let mut page = serde_json::Map::new();
            page.insert("type".into(), json!("list"));
            let key = &keys[rng.usize(..2)];
            page.insert(key.clone(), Value::Array(items));
            page.insert("pages".into(), random_value(&mut rng, 1));
            page.insert("total_count".into(), json!(rng.u32(..)));
            let text = Value::Object(page).to_string();
            let text = if rng.bool() {
                spaced(&text, &mut rng)
            } else {
                text
            };
            let fast = by_structure(&text, &keys).unwrap_or_else(|| panic!("{text}"));
            let slow = by_serde(&text, &keys, &request).unwrap_or_else(|(e, _)| panic!("{e}"));
            let ranges = |envelope: &Envelope| -> Vec<Range<usize>> {
                envelope
                    .items
                    .iter()
                    .map(|item| item.range.clone())
                    .collect()
            };
            assert_eq!(ranges(&fast), ranges(&slow), "{text}");
            assert_eq!(fast.rest, slow.rest, "{text}");
            // Each item's members, as serde_json reads the item's text; plain when it holds no
            // backslash.
            for item in &fast.items {
                assert_eq!(
                    item.plain,
                    !text[item.range.clone()].contains('\\'),
                    "{text}"
                );
                let noted: Vec<(String, String)> = fast.members
                    [item.members.start as usize..item.members.end as usize]
                    .iter()
                    .map(|m| (m.key(&text).to_string(), m.value(&text).to_string()))
                    .collect();
                assert_eq!(
                    Some(noted),
                    members_by_serde(&text[item.range.clone()]),
                    "{text}"
                );
            }
        }
        // The first key holding a list or null; what the structure does not read, serde_json
        // does.
        let fast = by_structure(r#"{"data":{"a":1},"companies":[{"b":2}]}"#, &keys).unwrap();
        assert_eq!(fast.items.len(), 1);
        assert!(
            by_structure(r#"{"data":null,"companies":[{"b":2}]}"#, &keys)
                .is_some_and(|envelope| envelope.items.is_empty())
        );
        // An item with a backslash (in a value) and plain keys; a page with whitespace.
        for read in [
            r#"{"data":[{"a":"x\"y","b":1}]}"#,
            r#"{"data": [ {"a" : "x\"y" ,"b":1} ]}"#,
        ] {
            let fast = by_structure(read, &keys).unwrap_or_else(|| panic!("{read}"));
            assert_eq!(fast.members.len(), 2, "{read}");
        }
        for refused in [
            r#"{"data":[{"a":1},{}]}"#,
            r#"{"data":[{"a":1},[1]]}"#,
            r#"{"data":[{"\u0061":1}]}"#,
            r#"{"data":[{"a":"x\\y","\u0062":1}]}"#,
            r#"{"data":[ {"a":"x\"y", "\u0062":1}]}"#,
            r#"{"d\u0061ta":[{"a":1}]}"#,
            r#"{"data":[{"a":1}],"x":tru}"#,
            r#"{"nope":[{"a":1}]}"#,
            r#"{"data":[{"a":1}]} x"#,
        ] {
            assert!(by_structure(refused, &keys).is_none(), "{refused}");
        }
    }

    #[test]
    fn a_body_ending_inside_a_character_was_cut_short() {
        let request = ApiRequest::get("/x");
        let text = text_of(Bytes::from("{\"a\": \"é\"}"), &request).unwrap();
        assert_eq!(text, "{\"a\": \"é\"}");
        let cut = text_of(Bytes::from(&b"{\"a\": \"\xc3"[..]), &request).unwrap_err();
        assert!(cut.1, "cut inside a character: fetched again");
        let (error, cut_short) =
            text_of(Bytes::from(&b"{\"a\": \"\xff\"}"[..]), &request).unwrap_err();
        assert!(!cut_short, "a byte that is never UTF-8 is no cut");
        assert!(error.to_string().contains("not UTF-8"), "{error}");
    }
}
