//! Session settings under the `intercom.` prefix, set with `SET intercom.<name> = <value>` and
//! read with `SHOW intercom.<name>`. Each connection (REPL session, pgwire connection) has its own.

use std::fmt;

use std::any::Any;

use datafusion::common::config::{
    ConfigEntry, ConfigExtension, ConfigField, ExtensionOptions, Visit,
};
use datafusion::error::{DataFusionError, Result};

/// An on/off setting that also accepts `true`/`false` and `1`/`0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl fmt::Display for Switch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Switch::On { "on" } else { "off" })
    }
}

impl ConfigField for Switch {
    fn visit<V: Visit>(&self, v: &mut V, key: &str, description: &'static str) {
        v.some(key, self, description)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        *self = match value.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Switch::On,
            "off" | "false" | "0" | "no" => Switch::Off,
            other => {
                return Err(DataFusionError::Configuration(format!(
                    "intercom.{key} takes on or off, not '{other}'"
                )));
            }
        };
        Ok(())
    }
}

/// intercom-sql's own settings.
/// How a whole-table read of a table with a search endpoint is sent (`SET intercom.scan`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanMode {
    /// The list endpoint, switching to [`ScanMode::Partitioned`] when its first page says the
    /// table is larger than a few pages: small reads stay current to the last write, large
    /// ones go as fast as the rate limit allows.
    Auto,
    /// Split into creation-time windows of the search endpoint, read concurrently: fast, but
    /// Intercom's search index trails writes by seconds to a minute.
    Partitioned,
    /// The list endpoint, one page after another: slower, but current to the last write.
    List,
}

impl fmt::Display for ScanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScanMode::Auto => "auto",
            ScanMode::Partitioned => "partitioned",
            ScanMode::List => "list",
        })
    }
}

impl ConfigField for ScanMode {
    fn visit<V: Visit>(&self, v: &mut V, key: &str, description: &'static str) {
        v.some(key, self, description)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        *self = match value.trim().to_ascii_lowercase().as_str() {
            "auto" => ScanMode::Auto,
            "partitioned" => ScanMode::Partitioned,
            "list" => ScanMode::List,
            other => {
                return Err(DataFusionError::Configuration(format!(
                    "intercom.{key} takes auto, partitioned or list, not '{other}'"
                )));
            }
        };
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct IntercomOptions {
    /// Send WHERE clauses to Intercom as search queries and get-by-id requests. `off` lists
    /// everything and filters locally (same rows, more requests): for comparing and debugging.
    pub pushdown: Switch,
    /// Most input rows one bulk procedure call (`FROM t, LATERAL archive_contact(t.id)`) may act
    /// on. A larger bulk call is refused before any request is sent.
    pub max_write_rows: u64,
    /// How a whole table with a search endpoint is read (see [`ScanMode`]).
    pub scan: ScanMode,
    /// Complete the lists Intercom cuts at 10 inside objects (a contact's tags, companies and
    /// notes) when their column is read: one request per object that has more. `off` shows
    /// them as Intercom sends them (`has_more: true`).
    pub complete_lists: Switch,
    /// Columns an EXPLAIN line may take before it is wrapped (0: never wrapped).
    pub explain_width: u64,
    /// How old a cached answer to a read may be (`SET intercom.cache_ttl = '5 min'`; zero,
    /// the default: reads are sent every time and nothing is cached).
    pub cache_ttl: std::time::Duration,
}

/// Default of `intercom.max_write_rows`.
pub const DEFAULT_MAX_WRITE_ROWS: u64 = 100;

/// The `intercom.*` settings of the session running `context` (`None` before they are
/// registered: the defaults apply).
fn options_of(context: &datafusion::execution::TaskContext) -> Option<&IntercomOptions> {
    context
        .session_config()
        .options()
        .extensions
        .get::<IntercomOptions>()
}

/// The one row-limit guard's limit: how many rows one INSERT/UPDATE/DELETE or one bulk procedure
/// call may act on in the session running `context` (`intercom.max_write_rows`).
pub fn max_write_rows(context: &datafusion::execution::TaskContext) -> u64 {
    options_of(context).map_or(DEFAULT_MAX_WRITE_ROWS, |o| o.max_write_rows)
}

/// `intercom.cache_ttl` of the session running `context` (`None`: no cache).
pub fn cache_ttl(context: &datafusion::execution::TaskContext) -> Option<std::time::Duration> {
    options_of(context)
        .map(|o| o.cache_ttl)
        .filter(|t| !t.is_zero())
}

/// A duration as `cache_ttl` takes it: seconds (`300`), or a number and a unit (`'5 min'`,
/// `'30s'`, `'2 hours'`, `'500 ms'`); `off` is zero.
pub fn parse_duration(key: &str, value: &str) -> Result<std::time::Duration> {
    let text = value.trim().trim_matches('\'').trim().to_ascii_lowercase();
    if text == "off" || text.is_empty() {
        return Ok(std::time::Duration::ZERO);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" | "millisecond" | "milliseconds" => 0.001,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        _ => f64::NAN,
    };
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * seconds)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 366.0 * 86_400.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| {
            DataFusionError::Configuration(format!(
                "intercom.{key} takes a duration such as '5 min', '30s' or 300 (seconds), or off, not '{}'",
                value.trim()
            ))
        })
}

/// `intercom.explain_width` of the session running `context`.
pub fn explain_width(context: &datafusion::execution::TaskContext) -> usize {
    options_of(context).map_or(crate::explain::WIDTH as u64, |o| o.explain_width) as usize
}

/// Whether `rows` rows pass the limit `limit` (a statement stops reading as soon as they do).
pub fn over_write_limit(rows: usize, limit: u64) -> bool {
    rows as u64 > limit
}

impl Default for IntercomOptions {
    fn default() -> Self {
        Self {
            pushdown: Switch::On,
            max_write_rows: DEFAULT_MAX_WRITE_ROWS,
            scan: ScanMode::Auto,
            complete_lists: Switch::On,
            explain_width: crate::explain::WIDTH as u64,
            cache_ttl: std::time::Duration::ZERO,
        }
    }
}

const MAX_WRITE_ROWS_DESCRIPTION: &str = "Most rows one bulk procedure call (FROM t, LATERAL archive_contact(t.id)) may act on; larger calls are refused before any request.";

fn parse_row_limit(key: &str, value: &str) -> Result<u64> {
    value.trim().parse::<u64>().map_err(|_| {
        DataFusionError::Configuration(format!(
            "intercom.{key} takes a whole number of rows, not '{}'",
            value.trim()
        ))
    })
}

const SCAN_DESCRIPTION: &str = "How a whole table with a search endpoint is read: auto (the list endpoint, or partitioned when its first page shows more than a few pages), partitioned (creation-time windows of the search, read concurrently; the search index may trail the last seconds of writes) or list (the list endpoint, page after page, current to the last write).";

const COMPLETE_LISTS_DESCRIPTION: &str = "Complete the lists Intercom cuts at 10 inside objects (a contact's tags, companies, notes) when their column is read, one request per object with more (on), or show them as sent, with has_more (off).";

const CACHE_TTL_DESCRIPTION: &str = "How old a cached answer to a read may be ('5 min', '30s', 300); off (the default) sends every read. Writes through intercom-sql forget the answers about what they change.";

const EXPLAIN_WIDTH_DESCRIPTION: &str = "Columns an EXPLAIN line may take before it is wrapped (78: a 100-column terminal; 0: never wrapped).";

const PUSHDOWN_DESCRIPTION: &str = "Send WHERE clauses to Intercom as searches and lookups (on), or list everything and filter locally (off).";

// Written out rather than with DataFusion's `extensions_options!`, whose entries lack the
// `intercom.` prefix, so that `SHOW intercom.pushdown` and `information_schema.df_settings`
// name the setting as users type it.
impl ExtensionOptions for IntercomOptions {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "pushdown" => self.pushdown.set(key, value),
            "scan" => self.scan.set(key, value),
            "complete_lists" => self.complete_lists.set(key, value),
            "max_write_rows" => {
                self.max_write_rows = parse_row_limit(key, value)?;
                Ok(())
            }
            "cache_ttl" => {
                self.cache_ttl = parse_duration(key, value)?;
                Ok(())
            }
            "explain_width" => {
                self.explain_width = value.trim().parse::<u16>().map(u64::from).map_err(|_| {
                    DataFusionError::Configuration(format!(
                        "intercom.{key} takes a number of columns (0 for no wrapping), not '{}'",
                        value.trim()
                    ))
                })?;
                Ok(())
            }
            other => Err(DataFusionError::Configuration(format!(
                "unknown setting intercom.{other}; the intercom settings are: intercom.pushdown, intercom.scan, intercom.complete_lists, intercom.max_write_rows, intercom.explain_width, intercom.cache_ttl"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![
            ConfigEntry {
                key: format!("{}.pushdown", Self::PREFIX),
                value: Some(self.pushdown.to_string()),
                description: PUSHDOWN_DESCRIPTION,
            },
            ConfigEntry {
                key: format!("{}.scan", Self::PREFIX),
                value: Some(self.scan.to_string()),
                description: SCAN_DESCRIPTION,
            },
            ConfigEntry {
                key: format!("{}.complete_lists", Self::PREFIX),
                value: Some(self.complete_lists.to_string()),
                description: COMPLETE_LISTS_DESCRIPTION,
            },
            ConfigEntry {
                key: format!("{}.max_write_rows", Self::PREFIX),
                value: Some(self.max_write_rows.to_string()),
                description: MAX_WRITE_ROWS_DESCRIPTION,
            },
            ConfigEntry {
                key: format!("{}.cache_ttl", Self::PREFIX),
                value: Some(match self.cache_ttl.is_zero() {
                    true => "off".to_string(),
                    false => format!("{}s", self.cache_ttl.as_secs_f64()),
                }),
                description: CACHE_TTL_DESCRIPTION,
            },
            ConfigEntry {
                key: format!("{}.explain_width", Self::PREFIX),
                value: Some(self.explain_width.to_string()),
                description: EXPLAIN_WIDTH_DESCRIPTION,
            },
        ]
    }
}

impl ConfigExtension for IntercomOptions {
    const PREFIX: &'static str = "intercom";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_accepts_the_usual_spellings_and_names_bad_ones() {
        let mut s = Switch::On;
        for (text, want) in [
            ("off", Switch::Off),
            ("ON", Switch::On),
            ("false", Switch::Off),
            ("1", Switch::On),
        ] {
            s.set("pushdown", text).unwrap();
            assert_eq!(s, want, "{text}");
        }
        let err = s.set("pushdown", "maybe").unwrap_err().to_string();
        assert!(
            err.contains("intercom.pushdown takes on or off, not 'maybe'"),
            "{err}"
        );
    }

    #[test]
    fn cache_ttl_takes_a_duration() {
        let mut options = IntercomOptions::default();
        assert!(options.cache_ttl.is_zero());
        for (text, seconds) in [
            ("300", 300.0),
            ("'5 min'", 300.0),
            ("30s", 30.0),
            ("off", 0.0),
        ] {
            options.set("cache_ttl", text).unwrap();
            assert_eq!(options.cache_ttl.as_secs_f64(), seconds, "{text}");
        }
        let err = options.set("cache_ttl", "soon").unwrap_err().to_string();
        assert!(err.contains("intercom.cache_ttl takes a duration"), "{err}");
    }

    #[test]
    fn max_write_rows_takes_a_whole_number() {
        let mut options = IntercomOptions::default();
        assert_eq!(options.max_write_rows, DEFAULT_MAX_WRITE_ROWS);
        options.set("max_write_rows", " 500 ").unwrap();
        assert_eq!(options.max_write_rows, 500);
        let err = options
            .set("max_write_rows", "lots")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("intercom.max_write_rows takes a whole number of rows, not 'lots'"),
            "{err}"
        );
    }
}
