//! Intercom's search query (docs/intercom-notes.md, "Search: query shape") as a small tree,
//! rendered to the JSON body of `POST /contacts/search` and friends.

use serde_json::{Value, json};

/// One node of a search query: a filter on a field, or an AND/OR group.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchNode {
    /// `{"field": …, "operator": …, "value": …}`.
    Filter {
        /// Intercom field name, e.g. `location.country`.
        field: String,
        /// `=`, `!=`, `IN`, `NIN`, `<`, `>`, `~`, `!~`, `^`, `$`.
        operator: &'static str,
        /// The value (string, number, boolean, null or a list).
        value: Value,
    },
    /// `{"operator": "AND"|"OR", "value": [...]}`.
    Group {
        /// `AND` or `OR`.
        operator: &'static str,
        /// Members.
        items: Vec<SearchNode>,
    },
}

/// Most filters or groups Intercom accepts in one group (docs/intercom-notes.md, "Search: query
/// shape").
pub const MAX_GROUP_ITEMS: usize = 15;
/// Most levels of nested groups Intercom accepts (docs/intercom-notes.md, "Search: query shape").
pub const MAX_DEPTH: usize = 2;

impl SearchNode {
    /// A filter node.
    pub fn filter(field: &str, operator: &'static str, value: Value) -> Self {
        SearchNode::Filter {
            field: field.to_string(),
            operator,
            value,
        }
    }

    /// Levels of groups in this node (a filter has none).
    pub fn depth(&self) -> usize {
        match self {
            SearchNode::Filter { .. } => 0,
            SearchNode::Group { items, .. } => {
                1 + items.iter().map(SearchNode::depth).max().unwrap_or(0)
            }
        }
    }

    /// Whether every group holds at most [`MAX_GROUP_ITEMS`] members.
    pub fn groups_fit(&self) -> bool {
        match self {
            SearchNode::Filter { .. } => true,
            SearchNode::Group { items, .. } => {
                items.len() <= MAX_GROUP_ITEMS && items.iter().all(SearchNode::groups_fit)
            }
        }
    }

    /// The JSON Intercom expects.
    pub fn to_json(&self) -> Value {
        match self {
            SearchNode::Filter {
                field,
                operator,
                value,
            } => json!({"field": field, "operator": operator, "value": value}),
            SearchNode::Group { operator, items } => {
                json!({"operator": operator, "value": items.iter().map(SearchNode::to_json).collect::<Vec<_>>()})
            }
        }
    }
}
