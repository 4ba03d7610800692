//! A raw API path as a user writes it (`/contacts?per_page=5`, in `intercom_api` and
//! `raw_items`): its path and decoded query pairs, refused unless relative to the API root.

/// A raw call's path (`/contacts?per_page=5`) as its path and decoded query pairs; refused
/// unless relative to the API root (the token goes nowhere else).
pub fn split_raw_path(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let text = text.trim();
    if !text.starts_with('/') || text.contains("://") {
        return Err(format!(
            "path must be relative to the API root and start with '/', e.g. '/me'; got '{text}'"
        ));
    }
    let (path, query) = text.split_once('?').unwrap_or((text, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect();
    Ok((path.to_string(), pairs))
}

/// Decodes `%XX` escapes and `+` in a query-string component (invalid escapes stay as
/// written).
fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
