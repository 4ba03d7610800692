//! The rustyline helper: decides when typed input is complete (Enter runs it or starts a new
//! line) and completes table names, column names, SQL keywords and backslash commands.
//! The logic lives in plain functions ([`is_complete`], [`Completions::complete`]) so it is
//! unit-tested without a terminal; the trait impls only adapt them to rustyline.

use rustyline::completion::{Completer, Pair};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper, Highlighter, Hinter};

use crate::print::Format;
use crate::repl::command::COMMANDS;
use crate::session::TableInfo;

/// Whether `input` is ready to run when the user presses Enter.
///
/// Backslash commands are complete on their own line. SQL is complete when its last token
/// outside strings, quoted identifiers and comments is `;`, so `SELECT 1; -- done` runs but
/// `SELECT ';` waits for more. Empty input is complete (it does nothing).
pub fn is_complete(input: &str) -> bool {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.starts_with('\\') {
        return true;
    }
    ends_with_semicolon(input)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lexing {
    Code,
    SingleQuoted,
    DoubleQuoted,
    LineComment,
    BlockComment { depth: usize },
}

/// True when the last significant character outside quotes and comments is `;` and no string,
/// quoted identifier or block comment is left open.
fn ends_with_semicolon(sql: &str) -> bool {
    let mut state = Lexing::Code;
    let mut last_code_char = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        state = match state {
            Lexing::Code => match c {
                '\'' => Lexing::SingleQuoted,
                '"' => Lexing::DoubleQuoted,
                '-' if chars.peek() == Some(&'-') => {
                    chars.next();
                    Lexing::LineComment
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    Lexing::BlockComment { depth: 1 }
                }
                c => {
                    if !c.is_whitespace() {
                        last_code_char = Some(c);
                    }
                    Lexing::Code
                }
            },
            // A doubled quote ('it''s') closes and reopens the string, which this handles.
            Lexing::SingleQuoted if c == '\'' => {
                last_code_char = Some(c);
                Lexing::Code
            }
            Lexing::DoubleQuoted if c == '"' => {
                last_code_char = Some(c);
                Lexing::Code
            }
            Lexing::LineComment if c == '\n' => Lexing::Code,
            Lexing::BlockComment { depth } if c == '*' && chars.peek() == Some(&'/') => {
                chars.next();
                match depth {
                    1 => Lexing::Code,
                    _ => Lexing::BlockComment { depth: depth - 1 },
                }
            }
            Lexing::BlockComment { depth } if c == '/' && chars.peek() == Some(&'*') => {
                chars.next();
                Lexing::BlockComment { depth: depth + 1 }
            }
            unchanged => unchanged,
        };
    }
    matches!(state, Lexing::Code | Lexing::LineComment) && last_code_char == Some(';')
}

/// SQL keywords offered by tab completion: the common ones, not the parser's full list of
/// several hundred, which would drown the table and column names.
const KEYWORDS: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CALL",
    "CASE",
    "CAST",
    "COUNT",
    "CREATE",
    "CROSS",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INTERSECT",
    "INTERVAL",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "RIGHT",
    "SELECT",
    "SET",
    "SHOW",
    "TABLE",
    "TABLES",
    "THEN",
    "TIMESTAMP",
    "TRUE",
    "UNION",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// Keywords after which only a table name makes sense.
const TABLE_CONTEXT: &[&str] = &["from", "join", "table", "describe", "into", "update"];

/// What tab completion can offer: tables with their columns, and keywords.
#[derive(Clone, Debug, Default)]
pub struct Completions {
    /// Table names with their column names.
    tables: Vec<(String, Vec<String>)>,
    /// Column names of all tables, sorted and without duplicates.
    columns: Vec<String>,
}

impl Completions {
    /// Completion data for these tables.
    pub fn new(tables: &[TableInfo]) -> Self {
        let tables: Vec<(String, Vec<String>)> = tables
            .iter()
            .map(|table| {
                let columns = table
                    .schema
                    .fields()
                    .iter()
                    .map(|field| field.name().clone())
                    .collect();
                (table.name.clone(), columns)
            })
            .collect();
        let mut columns: Vec<String> = tables
            .iter()
            .flat_map(|(_, columns)| columns.iter().cloned())
            .collect();
        columns.sort();
        columns.dedup();
        Self { tables, columns }
    }

    /// Completes the word that ends at byte `pos` of `line`: returns where the word starts and
    /// the candidates that replace it.
    ///
    /// - `SELECT * FROM cont` → `contacts` (after FROM/JOIN only tables are offered)
    /// - `SELECT ema` → `email` and other matching columns, tables and keywords
    /// - `contacts.em` → `contacts.email` (columns of the named table)
    /// - `\d con` → `contacts`, `\form` → `\format`, `\format c` → `csv`
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let Some(before) = line.get(..pos) else {
            return (pos, Vec::new());
        };
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !is_word_char(*c))
            .map_or(0, |(index, c)| index + c.len_utf8());
        let word = &before[start..];
        let statement = before.trim_start();
        if statement.starts_with('\\') {
            return self.complete_command(statement, start, word);
        }
        let previous = before[..start]
            .split(|c: char| !is_word_char(c))
            .rfind(|w| !w.is_empty())
            .map(str::to_ascii_lowercase);
        if word.is_empty()
            && previous
                .as_deref()
                .is_none_or(|p| !TABLE_CONTEXT.contains(&p))
        {
            return (pos, Vec::new());
        }
        if let Some((qualifier, prefix)) = word.rsplit_once('.') {
            let candidates = self
                .tables
                .iter()
                .filter(|(table, _)| table.eq_ignore_ascii_case(qualifier))
                .flat_map(|(_, columns)| columns.iter())
                .filter(|column| starts_with_ignore_case(column, prefix))
                .map(|column| format!("{qualifier}.{column}"))
                .collect();
            return (start, candidates);
        }
        let table_names = self.tables.iter().map(|(name, _)| name.as_str());
        let mut candidates: Vec<String> = if previous
            .as_deref()
            .is_some_and(|p| TABLE_CONTEXT.contains(&p))
        {
            matching(table_names, word)
        } else {
            let mut names = matching(
                table_names.chain(self.columns.iter().map(String::as_str)),
                word,
            );
            let upper = word.chars().any(|c| c.is_ascii_uppercase());
            names.extend(
                matching(KEYWORDS.iter().copied(), word)
                    .into_iter()
                    .map(|k| if upper { k } else { k.to_ascii_lowercase() }),
            );
            names
        };
        candidates.sort();
        candidates.dedup();
        (start, candidates)
    }

    fn complete_command(&self, statement: &str, start: usize, word: &str) -> (usize, Vec<String>) {
        let (name, argument) = match statement.split_once(char::is_whitespace) {
            Some((name, _)) => (name, true),
            None => (statement, false),
        };
        if !argument {
            // The word scan stops at `\`, so the command name starts one byte earlier.
            let start = start.saturating_sub(1);
            let candidates = COMMANDS
                .iter()
                .map(|(command, _, _)| *command)
                .filter(|command| command.starts_with(name))
                .map(str::to_string)
                .collect();
            return (start, candidates);
        }
        let options: Vec<&str> = match name {
            "\\d" => self
                .tables
                .iter()
                .map(|(table, _)| table.as_str())
                .collect(),
            "\\format" => Format::ALL.iter().map(|format| format.name()).collect(),
            "\\timing" => vec!["on", "off"],
            "\\procs" | "\\df" => crate::procedures::all().iter().map(|p| p.name).collect(),
            _ => Vec::new(),
        };
        (start, matching(options.into_iter(), word))
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

fn starts_with_ignore_case(candidate: &str, prefix: &str) -> bool {
    candidate
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn matching<'a>(candidates: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    candidates
        .filter(|candidate| starts_with_ignore_case(candidate, prefix))
        .map(str::to_string)
        .collect()
}

/// The rustyline helper of the REPL: validation and completion; no hints or highlighting.
#[derive(Helper, Hinter, Highlighter)]
pub struct ReplHelper {
    completions: Completions,
}

impl ReplHelper {
    /// A helper completing the names of these tables and their columns.
    pub fn new(tables: &[TableInfo]) -> Self {
        Self {
            completions: Completions::new(tables),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, candidates) = self.completions.complete(line, pos);
        let pairs = candidates
            .into_iter()
            .map(|candidate| Pair {
                display: candidate.clone(),
                replacement: candidate,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn sql_is_complete_only_after_a_semicolon() {
        let complete = [
            "SELECT 1;",
            "SELECT count(*)\nFROM contacts;",
            "SELECT 1;   ",
            "SELECT 1; -- trailing comment",
            "SELECT 1; /* block */",
            "SELECT 'it''s';",
            "SELECT \"odd;name\" FROM t;",
            "SELECT 1; SELECT 2;",
            "",
            "   ",
        ];
        for input in complete {
            assert!(is_complete(input), "should be complete: {input:?}");
        }
        let incomplete = [
            "SELECT 1",
            "SELECT count(*)\n",
            "SELECT ';",
            "SELECT 'it''s;",
            "SELECT \"a;",
            "SELECT 1 -- ;",
            "SELECT 1 /* ; */",
            "SELECT 1; /* open comment",
            "SELECT 1 /* /* nested */ ; */",
            "SELECT 1; SELECT 2",
        ];
        for input in incomplete {
            assert!(!is_complete(input), "should be incomplete: {input:?}");
        }
    }

    #[test]
    fn backslash_commands_are_complete_without_semicolon() {
        for input in ["\\dt", "  \\d contacts", "\\q", "\\format csv", "\\?"] {
            assert!(is_complete(input), "{input:?}");
        }
    }

    fn completions() -> Completions {
        let table = |name: &str, columns: &[&str]| TableInfo {
            name: name.to_string(),
            description: format!("{name} table"),
            schema: Arc::new(Schema::new(
                columns
                    .iter()
                    .map(|column| Field::new(*column, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            )),
            column_descriptions: columns.iter().map(|_| String::new()).collect(),
        };
        Completions::new(&[
            table("contacts", &["id", "email", "created_at"]),
            table("companies", &["id", "name", "created_at"]),
            table("conversations", &["id", "state", "contact_id"]),
        ])
    }

    fn complete(line: &str) -> (usize, Vec<String>) {
        completions().complete(line, line.len())
    }

    #[test]
    fn completes_table_names_after_from() {
        assert_eq!(
            complete("SELECT * FROM cont"),
            (14, vec!["contacts".to_string()])
        );
        assert_eq!(
            complete("select * from contacts c join co"),
            (
                30,
                vec![
                    "companies".into(),
                    "contacts".into(),
                    "conversations".into()
                ]
            )
        );
        let (_, all) = complete("SELECT * FROM ");
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn completes_columns_tables_and_keywords_elsewhere() {
        assert_eq!(complete("SELECT ema"), (7, vec!["email".to_string()]));
        assert_eq!(
            complete("SELECT id FROM contacts WHERE cre"),
            (30, vec!["create".to_string(), "created_at".to_string()])
        );
        assert_eq!(complete("SEL"), (0, vec!["SELECT".to_string()]));
        assert_eq!(complete("sel"), (0, vec!["select".to_string()]));
        let (_, candidates) = complete("SELECT c");
        assert!(candidates.contains(&"contacts".to_string()));
        assert!(candidates.contains(&"contact_id".to_string()));
        assert!(candidates.contains(&"created_at".to_string()));
        assert!(candidates.contains(&"case".to_string()));
        assert_eq!(complete("SELECT "), (7, Vec::<String>::new()));
    }

    #[test]
    fn completes_qualified_columns_of_the_named_table() {
        assert_eq!(
            complete("SELECT contacts.em"),
            (7, vec!["contacts.email".to_string()])
        );
        assert_eq!(complete("SELECT nosuch.em"), (7, Vec::<String>::new()));
    }

    #[test]
    fn completes_backslash_commands_and_their_arguments() {
        assert_eq!(complete("\\form"), (0, vec!["\\format".to_string()]));
        assert_eq!(
            complete("\\d"),
            (
                0,
                vec!["\\dt".to_string(), "\\d".to_string(), "\\df".to_string()]
            )
        );
        assert_eq!(
            complete("\\df archivec"),
            (4, vec!["ArchiveContact".to_string()])
        );
        assert_eq!(complete("\\d cont"), (3, vec!["contacts".to_string()]));
        assert_eq!(complete("\\format c"), (8, vec!["csv".to_string()]));
        assert_eq!(complete("\\timing o"), (8, vec!["on".into(), "off".into()]));
    }

    #[test]
    fn completion_never_panics_on_odd_positions() {
        let completions = completions();
        let line = "SELECT 'é' FROM cont";
        for pos in 0..=line.len() + 2 {
            let _ = completions.complete(line, pos);
        }
    }
}
