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
#[derive(Clone, Debug)]
pub struct IntercomOptions {
    /// Send WHERE clauses to Intercom as search queries and get-by-id requests. `off` lists
    /// everything and filters locally (same rows, more requests): for comparing and debugging.
    pub pushdown: Switch,
}

impl Default for IntercomOptions {
    fn default() -> Self {
        Self {
            pushdown: Switch::On,
        }
    }
}

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
            other => Err(DataFusionError::Configuration(format!(
                "unknown setting intercom.{other}; the intercom settings are: intercom.pushdown"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: format!("{}.pushdown", Self::PREFIX),
            value: Some(self.pushdown.to_string()),
            description: PUSHDOWN_DESCRIPTION,
        }]
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
}
