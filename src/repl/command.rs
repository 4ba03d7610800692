//! Backslash commands (`\dt`, `\d contacts`, `\format csv`, …) as an enum parsed with `FromStr`.
//! Parsing only: running a command is the REPL loop's job (`repl/mod.rs`).

use std::fmt;
use std::str::FromStr;

use crate::print::Format;

/// One backslash command typed at the REPL prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `\?` (or `\help`): list the commands.
    Help,
    /// `\q` (or `\quit`): leave the REPL.
    Quit,
    /// `\dt`: list the tables with their descriptions.
    ListTables,
    /// `\d table`: describe one table's columns; plain `\d` lists the tables like `\dt`.
    Describe(Option<String>),
    /// `\timing [on|off]`: toggle (or set) printing the elapsed time and row count.
    Timing(Option<bool>),
    /// `\format [table|csv|json|expanded]`: set the output format, or show it when no name is given.
    Format(Option<Format>),
    /// `\procs [name]` (or `\df [name]`): list the procedures, or describe one.
    Procedures(Option<String>),
    /// `\x [on|off|auto]`: expanded display (one line per column), toggled or set; `auto`
    /// expands the results wider than the terminal.
    Expanded(Option<Expanded>),
    /// `\cache`: forget the cached answers (`SET intercom.cache_ttl`).
    ClearCache,
}

/// The shell's expanded display (`\x`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expanded {
    /// Tables.
    #[default]
    Off,
    /// One block per row.
    On,
    /// Tables, expanded when wider than the terminal.
    Auto,
}

/// Every command name with its argument synopsis and a one-line description; drives `\?`
/// and the completion of command names.
pub const COMMANDS: [(&str, &str, &str); 10] = [
    ("\\dt", "", "list tables"),
    ("\\d", "[TABLE]", "describe a table's columns"),
    (
        "\\procs",
        "[PROCEDURE]",
        "list procedures (CALL …), or describe one's parameters",
    ),
    ("\\df", "[PROCEDURE]", "same as \\procs"),
    (
        "\\format",
        "[table|csv|json|expanded]",
        "set the output format (no argument: show it)",
    ),
    (
        "\\timing",
        "[on|off]",
        "toggle printing elapsed time and row count",
    ),
    (
        "\\x",
        "[on|off|auto]",
        "expanded display: one line per column (auto: when too wide)",
    ),
    (
        "\\cache",
        "",
        "forget the cached answers (SET intercom.cache_ttl = '5 min' caches reads)",
    ),
    ("\\?", "", "show this help"),
    ("\\q", "", "quit (Ctrl-D works too)"),
];

/// The text printed by `\?`.
pub fn help_text() -> String {
    let mut text = String::from("Commands:\n");
    for (name, arguments, description) in COMMANDS {
        let synopsis = format!("{name} {arguments}");
        text.push_str(&format!("  {synopsis:<27} {description}\n"));
    }
    text.push_str(
        "\nSQL statements end with ';' and may span several lines. \
         Ctrl-C cancels a running query or clears the input line; Tab completes \
         table names, column names and keywords.\n",
    );
    text
}

/// Why a line starting with `\` is not a valid command. The message is one line meant for
/// the user, with a hint where to look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError(String);

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CommandError {}

impl FromStr for Command {
    type Err = CommandError;

    /// Parses one command line such as `\d contacts` or `\format CSV`. Surrounding spaces and
    /// a trailing `;` (a habit from SQL) are ignored.
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim();
        let line = line.strip_suffix(';').unwrap_or(line).trim_end();
        let Some(body) = line.strip_prefix('\\') else {
            return Err(CommandError(format!(
                "'{line}' is not a backslash command; type \\? for help"
            )));
        };
        let (name, argument) = match body.split_once(char::is_whitespace) {
            Some((name, rest)) => (name, Some(rest.trim())),
            None => (body, None),
        };
        let name = name.to_ascii_lowercase();
        let argument = argument.filter(|argument| !argument.is_empty());
        match name.as_str() {
            "?" | "help" => no_argument(&name, argument, Command::Help),
            "q" | "quit" => no_argument(&name, argument, Command::Quit),
            "dt" => no_argument(&name, argument, Command::ListTables),
            "cache" => no_argument(&name, argument, Command::ClearCache),
            "d" => Ok(Command::Describe(argument.map(table_name).transpose()?)),
            "procs" | "df" => match argument {
                Some(procedure) if procedure.contains(char::is_whitespace) => Err(CommandError(
                    format!("\\{name} takes one procedure name, got '{procedure}'"),
                )),
                Some(procedure) => Ok(Command::Procedures(Some(
                    procedure.trim_matches('"').to_string(),
                ))),
                None => Ok(Command::Procedures(None)),
            },
            "timing" => match argument.map(str::to_ascii_lowercase).as_deref() {
                None => Ok(Command::Timing(None)),
                Some("on") => Ok(Command::Timing(Some(true))),
                Some("off") => Ok(Command::Timing(Some(false))),
                Some(other) => Err(CommandError(format!(
                    "\\timing takes on or off, not '{other}'"
                ))),
            },
            "x" => match argument.map(str::to_ascii_lowercase).as_deref() {
                None => Ok(Command::Expanded(None)),
                Some("on") => Ok(Command::Expanded(Some(Expanded::On))),
                Some("off") => Ok(Command::Expanded(Some(Expanded::Off))),
                Some("auto") => Ok(Command::Expanded(Some(Expanded::Auto))),
                Some(other) => Err(CommandError(format!(
                    "\\x takes on, off or auto, not '{other}'"
                ))),
            },
            "format" => match argument {
                None => Ok(Command::Format(None)),
                Some(name) => name
                    .parse()
                    .map(|format| Command::Format(Some(format)))
                    .map_err(|error| CommandError(format!("\\format: {error}"))),
            },
            _ => Err(CommandError(format!(
                "unknown command \\{name}; type \\? for the list of commands"
            ))),
        }
    }
}

fn no_argument(
    name: &str,
    argument: Option<&str>,
    command: Command,
) -> Result<Command, CommandError> {
    match argument {
        None => Ok(command),
        Some(argument) => Err(CommandError(format!(
            "\\{name} takes no argument (got '{argument}')"
        ))),
    }
}

/// Normalises a table name the way SQL does: unquoted names are lower-cased, `"Quoted"` names
/// are kept as written.
fn table_name(argument: &str) -> Result<String, CommandError> {
    if let Some(quoted) = argument
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return Ok(quoted.to_string());
    }
    if argument.contains(char::is_whitespace) {
        return Err(CommandError(format!(
            "\\d takes one table name, got '{argument}'"
        )));
    }
    Ok(argument.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        line.parse::<Command>().map_err(|error| error.to_string())
    }

    #[test]
    fn parses_every_command() {
        let cases = [
            ("\\?", Command::Help),
            ("\\help", Command::Help),
            ("\\q", Command::Quit),
            ("\\quit", Command::Quit),
            ("\\dt", Command::ListTables),
            ("\\d", Command::Describe(None)),
            ("\\d contacts", Command::Describe(Some("contacts".into()))),
            ("\\d CONTACTS", Command::Describe(Some("contacts".into()))),
            ("\\d \"MyView\"", Command::Describe(Some("MyView".into()))),
            ("\\cache", Command::ClearCache),
            ("\\timing", Command::Timing(None)),
            ("\\timing ON", Command::Timing(Some(true))),
            ("\\timing off", Command::Timing(Some(false))),
            ("\\format", Command::Format(None)),
            ("\\format csv", Command::Format(Some(Format::Csv))),
            ("\\format JSON", Command::Format(Some(Format::Json))),
            ("\\format table", Command::Format(Some(Format::Table))),
            ("\\procs", Command::Procedures(None)),
            ("\\df", Command::Procedures(None)),
            (
                "\\df ArchiveContact",
                Command::Procedures(Some("ArchiveContact".into())),
            ),
            (
                "\\procs \"archive_contact\"",
                Command::Procedures(Some("archive_contact".into())),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line), Ok(expected), "{line}");
        }
    }

    #[test]
    fn ignores_surrounding_spaces_and_a_trailing_semicolon() {
        assert_eq!(parse("  \\dt  "), Ok(Command::ListTables));
        assert_eq!(parse("\\dt;"), Ok(Command::ListTables));
        assert_eq!(
            parse("\\d   contacts ;"),
            Ok(Command::Describe(Some("contacts".into())))
        );
        assert_eq!(parse("\\Q"), Ok(Command::Quit));
    }

    #[test]
    fn expanded_display_is_toggled_or_set() {
        assert_eq!(parse("\\x"), Ok(Command::Expanded(None)));
        assert_eq!(parse("\\x ON"), Ok(Command::Expanded(Some(Expanded::On))));
        assert_eq!(
            parse("\\x auto"),
            Ok(Command::Expanded(Some(Expanded::Auto)))
        );
        assert_eq!(
            parse("\\x wide"),
            Err("\\x takes on, off or auto, not 'wide'".into())
        );
    }

    #[test]
    fn rejects_unknown_commands_with_a_hint() {
        assert_eq!(
            parse("\\"),
            Err("unknown command \\; type \\? for the list of commands".into())
        );
    }

    #[test]
    fn rejects_bad_arguments_in_one_line() {
        let cases = [
            (
                "\\format xml",
                "\\format: unknown format 'xml'; use table, csv, json or expanded",
            ),
            ("\\timing maybe", "\\timing takes on or off, not 'maybe'"),
            ("\\q now", "\\q takes no argument (got 'now')"),
            ("\\dt contacts", "\\dt takes no argument (got 'contacts')"),
            ("\\d a b", "\\d takes one table name, got 'a b'"),
            ("\\df a b", "\\df takes one procedure name, got 'a b'"),
            (
                "SELECT 1",
                "'SELECT 1' is not a backslash command; type \\? for help",
            ),
        ];
        for (line, message) in cases {
            let error = parse(line).unwrap_err();
            assert_eq!(error, message);
            assert!(!error.contains('\n'));
        }
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_text();
        for (name, _, description) in COMMANDS {
            assert!(help.contains(name), "{name}");
            assert!(help.contains(description), "{description}");
        }
    }
}
