//! Path templates (`/contacts/{contact_id}/tags`) and the encoding of one value as one path
//! segment, shared by the declarations and the client.

/// Fills the `{name}` placeholders of a path template with `segment(name)`, the caller's
/// already encoded value (see [`path_segment`]).
pub fn fill_path<E>(
    template: &str,
    mut segment: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&segment(&rest[start + 1..start + len])?);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One value as one path segment: everything but RFC 3986 unreserved characters is
/// percent-encoded, so `a/b` stays one segment. `None` for a value that cannot be a segment
/// at all: empty, `.` or `..` (URL parsers resolve those, encoded or not, and `/contacts/../tags`
/// would become `/tags`). Ids come from SQL text, so anything can arrive here.
pub fn path_segment(text: &str) -> Option<String> {
    if matches!(text, "" | "." | "..") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(out)
}
