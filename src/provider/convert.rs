//! Intercom JSON → Arrow record batches, decoding straight from each item's JSON text into
//! per-column builders: only the projected fields are looked at, everything else is skipped
//! unparsed, and no `serde_json::Value` tree is built (this is the scan's hot path).
//!
//! Lenient where Intercom is inconsistent (ids sent as numbers, timestamps as ISO strings):
//! a value of an unexpected shape becomes NULL rather than failing the query.

use datafusion::common::HashMap;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use futures::stream::{BoxStream, StreamExt};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::client::{ClientError, Item, Member, Page, SPACED, Structure, utf8_string};
use crate::tables::value::ColumnBuilder;
use crate::tables::{ColumnDef, PARENT_KEY, WHOLE_BODY};

/// Items as JSON text inside a response body (with their top-level members, when the page's
/// parse noted them), plus the parent id for child-table rows.
#[derive(Clone, Debug)]
pub struct RawRows {
    /// The body, checked to be UTF-8 once (a page's by its parse, any other here): the
    /// decoder, the splits and the completions read it as text without checking it again (a
    /// `str` check of every page was 1–2% of a whole read's time, each).
    body: Arc<String>,
    items: Vec<Item>,
    /// The members the items' `members` ranges point into (shared by splits of one page).
    members: Arc<Vec<Member>>,
    parent: Option<Arc<str>>,
}

impl RawRows {
    /// Items at `ranges` of `body`. `body` must be UTF-8 with each range on a JSON value.
    pub fn new(
        body: Bytes,
        ranges: Vec<Range<usize>>,
        parent: Option<Arc<str>>,
    ) -> Result<Self, ArrowError> {
        // The body's own buffer when nothing else holds it: no copy.
        let body = utf8_string(Vec::from(body))
            .map_err(|e| ArrowError::JsonError(format!("response is not UTF-8: {e}")))?;
        Ok(Self {
            body: Arc::new(body),
            items: ranges.into_iter().map(Item::at).collect(),
            members: Arc::default(),
            parent,
        })
    }

    /// The items of `page` as rows (its body was checked to be UTF-8 as it was read).
    pub fn from_page(page: Page, parent: Option<Arc<str>>) -> Self {
        let (body, items, members) = page.into_parts();
        Self {
            body: Arc::new(body),
            items,
            members: Arc::new(members),
            parent,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        self.items.truncate(n);
    }

    /// Keeps the rows whose JSON text `keep` keeps.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let text = self.body.as_str();
        self.items.retain(|item| keep(item.text(text)));
    }

    /// These rows split in two over the same body: those `picked` does not pick, and those it
    /// does (`None` when it picks none).
    pub(crate) fn split(self, mut picked: impl FnMut(Row) -> bool) -> (Self, Option<Self>) {
        let body = self.body.as_str();
        let (chosen, rest): (Vec<_>, Vec<_>) = self
            .items
            .iter()
            .cloned()
            .partition(|item| picked(self.row(item, body)));
        if chosen.is_empty() {
            return (self, None);
        }
        let other = Self {
            body: self.body.clone(),
            items: chosen,
            members: self.members.clone(),
            parent: self.parent.clone(),
        };
        (
            Self {
                items: rest,
                ..self
            },
            Some(other),
        )
    }

    /// The parent id of these rows (child tables).
    pub(crate) fn parent(&self) -> Option<Arc<str>> {
        self.parent.clone()
    }

    /// Each row's JSON text.
    pub(crate) fn items(&self) -> impl Iterator<Item = &str> {
        let text = self.body.as_str();
        self.items.iter().map(move |item| item.text(text))
    }

    /// Each row's JSON text and its noted members (none when they were not noted).
    fn rows(&self) -> impl Iterator<Item = (&str, &[Member], bool)> {
        let body = self.body.as_str();
        self.items.iter().map(move |item| {
            let row = self.row(item, body);
            (row.text, row.members, item.plain)
        })
    }

    /// The row of `item`, in `body` (these rows' body).
    fn row<'r>(&'r self, item: &Item, body: &'r str) -> Row<'r> {
        let members = self
            .members
            .get(item.members.start as usize..item.members.end as usize)
            .unwrap_or_default();
        Row {
            text: item.text(body),
            members,
            body,
        }
    }
}

/// One row: its JSON text and, when the page's parse noted them, its top-level members.
pub(crate) struct Row<'r> {
    /// The row's JSON text.
    pub text: &'r str,
    members: &'r [Member],
    body: &'r str,
}

impl<'r> Row<'r> {
    /// Whether the row's top-level members were noted (else its text must be read).
    pub(crate) fn noted(&self) -> bool {
        !self.members.is_empty()
    }

    /// The row's `at`-th noted top-level member: its key and its value's JSON text.
    pub(crate) fn member(&self, at: usize) -> Option<(&'r str, &'r str)> {
        let member = self.members.get(at)?;
        Some((member.key(self.body), member.value(self.body)))
    }

    /// Where the first of the row's noted top-level members named `key` is, looked for
    /// first at `near` (the items of one list give their keys in one order).
    pub(crate) fn find(&self, key: &str, near: usize) -> Option<usize> {
        match self.member(near) {
            Some((k, _)) if k == key => Some(near),
            _ => (0..self.members.len()).find(|&at| self.members[at].key(self.body) == key),
        }
    }
}

/// A response's items as rows; a body that is not UTF-8 is a decode error of `method path`.
pub fn raw_rows(
    method: &str,
    path: &str,
    body: Bytes,
    ranges: Vec<Range<usize>>,
    parent: Option<Arc<str>>,
) -> Result<RawRows, ClientError> {
    RawRows::new(body, ranges, parent).map_err(|e| ClientError::Decode {
        request: format!("{method} {path}"),
        json_path: "$".into(),
        reason: e.to_string(),
    })
}

/// The rows of each page of a stream of `pages`.
pub fn page_rows(
    pages: BoxStream<'static, Result<Page, ClientError>>,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    pages
        .map(|page| page.map(|page| vec![RawRows::from_page(page, None)]))
        .boxed()
}

/// Which JSON keys lead to which columns: a column path `location.country` is the branch
/// `location` → leaf `country`. A key can be both a leaf (a JSON column of the whole object)
/// and a branch (flattened columns inside it).
#[derive(Debug, Default)]
struct Node {
    leaves: Vec<usize>,
    /// Keyed with a fast hash (foldhash): looked up for every key of every item.
    children: HashMap<String, Node>,
}

/// Decodes rows for a fixed list of (projected) columns.
#[derive(Debug)]
pub struct BatchDecoder {
    columns: Vec<ColumnDef>,
    schema: SchemaRef,
    root: Node,
    /// Columns filled with the chunk's parent id rather than from the JSON.
    parent_columns: Vec<usize>,
    /// JSON columns holding the whole item (path [`WHOLE_BODY`]).
    item_columns: Vec<usize>,
    /// Each column's bytes of text per 16 rows in the batch decoded last: the room a batch's
    /// text builders start with (0 until a batch was decoded).
    widths: Vec<AtomicUsize>,
}

impl BatchDecoder {
    /// A decoder producing batches of `schema` (which matches `columns`).
    pub fn new(columns: Vec<ColumnDef>, schema: SchemaRef) -> Self {
        let mut root = Node::default();
        for (i, c) in columns.iter().enumerate() {
            if c.path == [PARENT_KEY] || c.path == [WHOLE_BODY] {
                continue;
            }
            let mut node = &mut root;
            for key in &c.path {
                node = node.children.entry(key.clone()).or_default();
            }
            node.leaves.push(i);
        }
        let parent_columns = (0..columns.len())
            .filter(|&i| columns[i].path == [PARENT_KEY])
            .collect();
        let item_columns = (0..columns.len())
            .filter(|&i| columns[i].path == [WHOLE_BODY])
            .collect();
        Self {
            widths: columns.iter().map(|_| AtomicUsize::new(0)).collect(),
            columns,
            schema,
            root,
            parent_columns,
            item_columns,
        }
    }

    /// One batch holding every row of `chunks`.
    pub fn decode(&self, chunks: &[RawRows]) -> Result<RecordBatch, ArrowError> {
        let rows: usize = chunks.iter().map(RawRows::len).sum();
        // What no column's text exceeds (a value's text is at most its item's).
        let text: usize = chunks
            .iter()
            .flat_map(|chunk| &chunk.items)
            .map(|item| item.range.len())
            .sum();
        let mut builders: Vec<ColumnBuilder> = self
            .columns
            .iter()
            .zip(&self.widths)
            .map(|(c, width)| {
                // The last batch's width, an eighth more (pages of one table are alike), at
                // most the items' text.
                let bytes = match width.load(Ordering::Relaxed) {
                    0 => None,
                    width => Some((rows.saturating_mul(width) / 16).saturating_mul(9) / 8),
                };
                let bytes = bytes.map(|bytes| bytes.min(text));
                ColumnBuilder::with_text_bytes(c.kind, rows, bytes)
            })
            .collect();
        let mut filled = vec![false; self.columns.len()];
        if !self.columns.is_empty() {
            for chunk in chunks {
                let body = chunk.body.as_str();
                let mut keys = KeyMemo::default();
                for (item, members, plain) in chunk.rows() {
                    filled.fill(false);
                    for &i in &self.parent_columns {
                        if let Some(parent) = &chunk.parent {
                            builders[i].append_text(parent);
                            filled[i] = true;
                        }
                    }
                    for &i in &self.item_columns {
                        builders[i].append_raw(item);
                        filled[i] = true;
                    }
                    let left = filled.iter().filter(|f| !**f).count();
                    let mut walk = Walk {
                        builders: &mut builders,
                        filled: &mut filled,
                        left,
                        escapes: !plain,
                    };
                    // Members noted by the page's parse are looked up by key, unread ones
                    // skipped for free; else the item's text is walked.
                    if members.is_empty() {
                        walk.item(&self.root, item);
                    } else {
                        walk.members(&self.root, members, body, &mut keys);
                    }
                    for (builder, done) in builders.iter_mut().zip(&filled) {
                        if !done {
                            builder.append_null();
                        }
                    }
                }
            }
        }
        for (builder, width) in builders.iter().zip(&self.widths) {
            if let Some(per_row) = (builder.text_bytes() * 16).checked_div(rows) {
                width.store(per_row, Ordering::Relaxed);
            }
        }
        let arrays: Vec<ArrayRef> = builders.into_iter().map(ColumnBuilder::finish).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
    }
}

/// One row's builders as its item is walked: which columns are filled, how many are not.
struct Walk<'a> {
    builders: &'a mut [ColumnBuilder],
    filled: &'a mut [bool],
    /// Columns not filled yet: at zero the walk stops.
    left: usize,
    /// Whether the item's strings may have escapes (else none is searched for one).
    escapes: bool,
}

impl Walk<'_> {
    /// Walks the JSON text of an item. A row that is not an object (or not JSON) keeps
    /// whatever it filled: NULLs. Reading stops once every column is filled (the rest of the
    /// item is not looked at, which serde_json reports as an error: ignored too).
    fn item(&mut self, root: &Node, item: &str) {
        let mut de = serde_json::Deserializer::from_str(item);
        let _ = ObjectSeed {
            node: root,
            walk: self,
        }
        .deserialize(&mut de);
    }

    /// Walks an item's noted `members` (offsets in `body`): a key no column wants is
    /// skipped unread, and so is a null, before its key is looked up (see [`Walk::take`]; a
    /// contact's members are nearly half nulls).
    fn members<'a>(
        &mut self,
        root: &'a Node,
        members: &[Member],
        body: &'a str,
        keys: &mut KeyMemo<'a>,
    ) {
        for (at, member) in members.iter().enumerate() {
            let value = member.value(body);
            if value == "null" {
                continue;
            }
            let Some(child) = keys.child(root, at, member.key(body)) else {
                continue;
            };
            if self.take(child, value).is_err() || self.left == 0 {
                break;
            }
        }
    }

    /// Hands the value `text` (JSON) found at `node` to its columns, and walks into it for
    /// columns further down. A null fills nothing: its columns are NULL after the walk, unless
    /// the key is given again (the first value that is not null is read).
    fn take(&mut self, node: &Node, text: &str) -> Result<(), serde_json::Error> {
        if text == "null" {
            return Ok(());
        }
        for &i in &node.leaves {
            if !self.filled[i] {
                self.builders[i].append_json(text, self.escapes);
                self.filled[i] = true;
                self.left -= 1;
            }
        }
        if !node.children.is_empty() && text.starts_with('{') && !self.object(node, text) {
            // Not read by its structure: serde_json reads it (what the walk above filled is
            // not filled again) and says what is wrong with it.
            let mut de = serde_json::Deserializer::from_str(text);
            let nested = ObjectSeed { node, walk: self }.deserialize(&mut de);
            // A nested object left unread because every column is filled is no error.
            if self.left > 0 {
                nested?;
            }
        }
        Ok(())
    }

    /// Walks the nested object `text` by its [`Structure`], jumping from member to member:
    /// `false` when that cannot read it (not well-formed, a key with escapes, a value that
    /// does not decode), for serde_json's walk to read it instead.
    fn object(&mut self, node: &Node, text: &str) -> bool {
        let Some(structure) = Structure::of(text) else {
            return false;
        };
        let mut done = false;
        let walked = structure.members::<SPACED>(0, |key, value| {
            if let Some(child) = node.children.get(text.get(structure.plain(key)?)?) {
                self.take(child, text.get(value)?).ok()?;
                if self.left == 0 {
                    done = true;
                    return None;
                }
            }
            Some(())
        });
        done || walked.is_some()
    }
}

/// The previous row's keys and their nodes, by position: the items of one list mostly give
/// their keys in one order, so a key is first compared with the one at its position in the
/// row before (a short compare of text just read), and hashed only when they differ.
#[derive(Default)]
struct KeyMemo<'a> {
    previous: Vec<(&'a str, Option<&'a Node>)>,
}

impl<'a> KeyMemo<'a> {
    /// The child of `root` under `key`, the `at`-th key of its row.
    fn child(&mut self, root: &'a Node, at: usize, key: &'a str) -> Option<&'a Node> {
        match self.previous.get_mut(at) {
            Some((known, node)) if *known == key => *node,
            Some(slot) => {
                *slot = (key, root.children.get(key));
                slot.1
            }
            None => {
                let node = root.children.get(key);
                self.previous.push((key, node));
                node
            }
        }
    }
}

/// Walks one JSON object, handing matched values to the builders and skipping the rest.
struct ObjectSeed<'a, 'w> {
    node: &'a Node,
    walk: &'a mut Walk<'w>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let Some(child) = self.node.children.get(key.as_ref()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let raw: &'de RawValue = map.next_value()?;
            self.walk
                .take(child, raw.get())
                .map_err(de::Error::custom)?;
            if self.walk.left == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// A map key, borrowed from the input unless it contains escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::tables::ColumnDef as C;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Field, Int64Type, Schema, TimestampMicrosecondType};

    pub(in crate::provider) fn decoder(columns: Vec<ColumnDef>) -> BatchDecoder {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        BatchDecoder::new(columns, schema)
    }

    /// Column `c` of `batch`, text, NULL as `None`.
    pub(in crate::provider) fn texts(batch: &RecordBatch, c: usize) -> Vec<Option<&str>> {
        let a = batch.column(c).as_string::<i32>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    /// Column `c` of `batch`, integers, NULL as `None`.
    fn ints(batch: &RecordBatch, c: usize) -> Vec<Option<i64>> {
        let a = batch.column(c).as_primitive::<Int64Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    pub(in crate::provider) fn rows(items: &[&str], parent: Option<&str>) -> RawRows {
        let body = format!("[{}]", items.join(","));
        let mut ranges = Vec::new();
        let mut at = 1;
        for item in items {
            ranges.push(at..at + item.len());
            at += item.len() + 1;
        }
        RawRows::new(Bytes::from(body), ranges, parent.map(Arc::from)).unwrap()
    }

    #[test]
    fn converts_each_type_leniently() {
        let d = decoder(vec![
            C::text("id", "d"),
            C::int("owner_id", "d"),
            C::timestamp("created_at", "d"),
            C::text("country", "d").at("location.country"),
            C::json("tags", "d"),
            C::bool("open", "d"),
            C::json("location", "d"),
            C::text("name", "d"),
        ]);
        let batch = d
            .decode(&[rows(
                &[
                    r#"{"id": 12, "owner_id": "7", "created_at": 1700000000, "location": {"country": "Fran\u00e7e", "city": null}, "tags": {"data": []}, "open": true, "name": "A \"q\""}"#,
                    r#"{"id": "abc", "owner_id": null, "created_at": "2024-01-02T03:04:05Z", "location": null, "open": "x", "extra": [1, {"id": 5}]}"#,
                    r#"not json"#,
                ],
                None,
            )])
            .unwrap();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "12");
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "abc");
        assert_eq!(batch.column(1).as_primitive::<Int64Type>().value(0), 7);
        assert!(batch.column(1).is_null(1));
        let ts = batch.column(2).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_700_000_000_000_000);
        assert_eq!(ts.value(1), 1_704_164_645_000_000);
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "Françe");
        assert!(batch.column(3).is_null(1));
        assert_eq!(
            batch.column(4).as_string::<i32>().value(0),
            r#"{"data": []}"#
        );
        assert!(batch.column(4).is_null(1));
        assert!(batch.column(5).value_is_true(0));
        assert!(batch.column(5).is_null(1));
        assert!(
            batch
                .column(6)
                .as_string::<i32>()
                .value(0)
                .starts_with(r#"{"country""#)
        );
        assert_eq!(batch.column(7).as_string::<i32>().value(0), r#"A "q""#);
        for c in 0..8 {
            assert!(batch.column(c).is_null(2), "column {c} of a broken row");
        }
    }

    #[test]
    fn keys_in_any_order_reach_their_columns() {
        // Objects of one list with their keys in different orders, a key repeated inside a
        // nested object, keys left out.
        let d = decoder(vec![
            C::int("a", "d"),
            C::int("d", "d"),
            C::text("c", "d").at("b.c"),
            C::json("b", "d"),
        ]);
        let batch = d
            .decode(&[rows(
                &[
                    r#"{"a": 1, "b": {"c": "x", "a": 9}, "d": 2}"#,
                    r#"{"d": 3, "a": 4, "b": {"a": 8, "c": "y"}}"#,
                    r#"{"a": 5, "z": 0, "b": {"q": 1, "c": "w"}}"#,
                    r#"{"b": {}, "a": 6, "d": 7}"#,
                ],
                None,
            )])
            .unwrap();
        assert_eq!(ints(&batch, 0), [Some(1), Some(4), Some(5), Some(6)]);
        assert_eq!(ints(&batch, 1), [Some(2), Some(3), None, Some(7)]);
        assert_eq!(texts(&batch, 2), [Some("x"), Some("y"), Some("w"), None]);
        assert_eq!(batch.column(3).as_string::<i32>().value(3), "{}");
    }

    #[test]
    fn members_noted_by_the_page_decode_as_the_items_text_does() {
        let d = decoder(vec![
            C::text("id", "d"),
            C::int("n", "d"),
            C::text("country", "d").at("location.country"),
            C::json("location", "d"),
            C::timestamp("at", "d"),
            C::json("whole", "d").at(WHOLE_BODY),
            C::bool("b", "d"),
        ]);
        let items = [
            r#"{"id": "1", "n": 5, "location": {"country": "FR", "x": [1]}, "at": 1700000000, "b": true}"#,
            r#"{"location": null, "n": null, "n": "7", "skip": {"id": 9}, "id": 2, "n": 8}"#,
            r#"{"at": "2024-01-02T03:04:05Z", "location": {"city": "x", "country": null}}"#,
            r#"{"b": false, "id": "\u00e9"}"#,
        ];
        let body = format!(r#"{{"type": "list", "data": [{}]}}"#, items.join(", "));
        let page = Page::parse(&body, "data");
        let noted = RawRows::from_page(page, None);
        assert!(noted.members.len() > 10, "the page's members were noted");
        let expected = d.decode(&[rows(&items, None)]).unwrap();
        assert_eq!(d.decode(&[noted]).unwrap(), expected);
        assert_eq!(expected.column(1).as_primitive::<Int64Type>().value(1), 7);
    }

    #[test]
    fn nested_objects_are_read_by_their_structure_or_else_by_serde_json() {
        let d = decoder(vec![
            C::text("am", "d").at("ca.Account Manager"),
            C::text("deep", "d").at("ca.x.y"),
            C::int("n", "d").at("ca.n"),
        ]);
        let batch = d
            .decode(&[rows(
                &[
                    // A key with escapes: read by serde_json.
                    r#"{"ca": {"Account\u0020Manager": "Ann", "x": {"y": "z"}, "n": 3}}"#,
                    // Escapes and brackets inside strings; nested deeper; keys in any order.
                    r#"{"ca": {"n": 4, "later": [1, {"a": "}"}], "Account Manager": "B\"ob", "x": {"y": "w]"}}}"#,
                    // Not an object where one is looked into; a key named twice (the first is read,
                    // unless it is null).
                    r#"{"ca": {"x": "flat", "n": null, "n": "5", "n": 6}}"#,
                    // Every column filled before the object ends.
                    r#"{"ca": {"Account Manager": "C", "x": {"y": 1}, "n": 7, "rest": {"u": [2]}}}"#,
                ],
                None,
            )])
            .unwrap();
        assert_eq!(
            texts(&batch, 0),
            [Some("Ann"), Some("B\"ob"), None, Some("C")]
        );
        assert_eq!(texts(&batch, 1), [Some("z"), Some("w]"), None, Some("1")]);
        assert_eq!(ints(&batch, 2), [Some(3), Some(4), Some(5), Some(7)]);
    }

    #[test]
    fn parent_ids_fill_the_key_column() {
        let d = decoder(vec![C::parent_key("contact_id", "d"), C::text("id", "d")]);
        let batch = d
            .decode(&[rows(&[r#"{"id":"t1"}"#, r#"{"id":"t2"}"#], Some("c\"1"))])
            .unwrap();
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "c\"1");
        assert_eq!(batch.column(1).as_string::<i32>().value(1), "t2");
    }

    #[test]
    fn empty_projection_keeps_the_row_count() {
        let d = BatchDecoder::new(Vec::new(), Arc::new(Schema::empty()));
        let batch = d
            .decode(&[rows(&["{}", "{}"], None), rows(&["{}"], None)])
            .unwrap();
        assert_eq!(batch.num_rows(), 3);
    }

    trait IsTrue {
        fn value_is_true(&self, i: usize) -> bool;
    }
    impl IsTrue for ArrayRef {
        fn value_is_true(&self, i: usize) -> bool {
            self.as_boolean().value(i)
        }
    }
}
