//! Seeded random WHERE clauses over a table's sampled values, in SQL that DataFusion and
//! PostgreSQL both read the same way: the pushdown differential (`pushdown.rs`, pushdown on
//! against off) and the PostgreSQL differential (`postgres.rs`, us against PostgreSQL) share
//! them.

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    Int,
    Bool,
    Time,
}

/// Values seen in the data, per column, as SQL literal-ready strings (`None` = NULL).
pub struct Samples {
    pub columns: Vec<(String, Kind, Vec<Option<String>>)>,
}

pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn vary_case(rng: &mut fastrand::Rng, s: &str) -> String {
    match rng.u8(0..5) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        // Per-character case changes have no context rules (`Σ` stays `σ` at a word's end).
        2 => s
            .chars()
            .map(|c| {
                if rng.bool() {
                    c.to_uppercase().collect::<String>()
                } else {
                    c.to_lowercase().collect()
                }
            })
            .collect(),
        _ => s.to_string(),
    }
}

/// Names whose letters compare in surprising ways case-insensitively: Greek final sigma,
/// titlecase digraphs, dotted and dotless i, sharp s, ligatures. Added to the contacts before
/// the differential run so the generator meets them in its samples.
pub const TRICKY_NAMES: &[&str] = &[
    "Οδυσσέας Ελύτης",
    "ΟΔΥΣΣΕΑΣ",
    "ǅemal ǆukić",
    "ǄEMAL",
    "İsmail Işık",
    "ISMAIL ıi",
    "Straße Groß",
    "STRASSE",
    "ﬁnn Oﬄey",
    "FINN",
];

/// Needles built from [`TRICKY_NAMES`]' letters, for LIKE, `=`, `<>` and `NOT IN`.
pub const TRICKY_NEEDLES: &[&str] = &[
    "ΟΔΥΣ", "οδυς", "Σ", "ς", "σ", "ǅ", "ǆ", "Ǆ", "İ", "ı", "i", "I", "ß", "SS", "ss", "ﬁ", "fi",
    "FI", "ﬄ",
];

/// Every comparison form the pushdown translates, on `column` with `needle`.
pub fn tricky_atoms(column: &str, needle: &str) -> Vec<String> {
    vec![
        format!("{column} LIKE {}", quote(&format!("{needle}%"))),
        format!("{column} LIKE {}", quote(&format!("%{needle}"))),
        format!("{column} LIKE {}", quote(&format!("%{needle}%"))),
        format!("{column} NOT LIKE {}", quote(&format!("%{needle}%"))),
        format!("{column} <> {}", quote(needle)),
        format!("{column} NOT IN ({}, '1')", quote(needle)),
        format!("{column} IN ({}, '1')", quote(needle)),
        format!("{column} = {}", quote(needle)),
    ]
}

/// One predicate on one column.
fn atom(rng: &mut fastrand::Rng, samples: &Samples) -> String {
    let (name, kind, values) = &samples.columns[rng.usize(0..samples.columns.len())];
    let present: Vec<&String> = values.iter().flatten().collect();
    let pick = |rng: &mut fastrand::Rng| -> Option<String> {
        if present.is_empty() {
            None
        } else {
            Some(present[rng.usize(0..present.len())].clone())
        }
    };
    if rng.u8(0..12) == 0 {
        return format!("{name} IS {}NULL", if rng.bool() { "" } else { "NOT " });
    }
    match kind {
        Kind::Text if rng.u8(0..6) == 0 => {
            let forms = tricky_atoms(name, TRICKY_NEEDLES[rng.usize(0..TRICKY_NEEDLES.len())]);
            forms[rng.usize(0..forms.len())].clone()
        }
        Kind::Text => {
            let v = pick(rng).unwrap_or_else(|| "zzz".into());
            let v = if rng.u8(0..5) == 0 {
                format!("{v}x")
            } else {
                vary_case(rng, &v)
            };
            let cut = |rng: &mut fastrand::Rng, s: &str| -> String {
                let chars: Vec<char> = s.chars().filter(|c| *c != '%' && *c != '_').collect();
                let n = chars.len();
                if n < 2 {
                    return chars.into_iter().collect();
                }
                let a = rng.usize(0..n - 1);
                let b = rng.usize(a + 1..=n);
                chars[a..b].iter().collect()
            };
            match rng.u8(0..9) {
                0 | 1 => format!("{name} = {}", quote(&v)),
                2 => format!("{name} <> {}", quote(&v)),
                3 => {
                    let w = pick(rng).unwrap_or_default();
                    format!("{name} IN ({}, {})", quote(&v), quote(&w))
                }
                4 => format!("{name} NOT IN ({})", quote(&v)),
                5 => format!("{name} LIKE {}", quote(&format!("{}%", cut(rng, &v)))),
                6 => format!("{name} LIKE {}", quote(&format!("%{}", cut(rng, &v)))),
                7 => format!("{name} LIKE {}", quote(&format!("%{}%", cut(rng, &v)))),
                _ => format!("{name} NOT LIKE {}", quote(&format!("%{}%", cut(rng, &v)))),
            }
        }
        Kind::Int => {
            let v: i64 = pick(rng).and_then(|v| v.parse().ok()).unwrap_or(0) + rng.i64(-1..=1);
            let op = ["=", "<>", "<", ">", "<=", ">="][rng.usize(0..6)];
            if rng.u8(0..6) == 0 {
                format!(
                    "{name} {}IN ({v}, {})",
                    if rng.bool() { "NOT " } else { "" },
                    v + 2
                )
            } else {
                format!("{name} {op} {v}")
            }
        }
        Kind::Bool => format!(
            "{name} {} {}",
            if rng.bool() { "=" } else { "<>" },
            rng.bool()
        ),
        Kind::Time => {
            let base: i64 = pick(rng)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_700_000_000);
            // Near day boundaries: exact instant, one second off, half a day, a day, two days.
            let offset = [
                0, 1, -1, 43_200, -43_200, 86_400, -86_400, 172_800, -172_801,
            ][rng.usize(0..9)];
            let op = ["=", "<", ">", "<=", ">=", "<>"][rng.usize(0..6)];
            // Sometimes half a second or a microsecond off a row's second: columns keep
            // microseconds, as timestamptz does.
            let micros = [0, 0, 0, 500_000, 1, 999_999][rng.usize(0..6)];
            let at = chrono::DateTime::from_timestamp(base + offset, micros * 1_000).unwrap();
            format!("{name} {op} '{}'", at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
        }
    }
}

pub fn clause(rng: &mut fastrand::Rng, samples: &Samples) -> String {
    match rng.u8(0..7) {
        0 | 1 => atom(rng, samples),
        2 => format!("{} AND {}", atom(rng, samples), atom(rng, samples)),
        3 => format!("{} OR {}", atom(rng, samples), atom(rng, samples)),
        4 => format!("NOT ({})", atom(rng, samples)),
        5 => format!(
            "({} OR {}) AND {}",
            atom(rng, samples),
            atom(rng, samples),
            atom(rng, samples)
        ),
        _ => format!(
            "{} OR ({} AND {})",
            atom(rng, samples),
            atom(rng, samples),
            atom(rng, samples)
        ),
    }
}
