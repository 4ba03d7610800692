//! PostgreSQL frontend messages built by hand, for the tests that speak the protocol over a
//! raw socket (malformed frames, fuzzing).

/// A frame with a type byte: tag, length, body.
pub fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// `text` and its NUL.
pub fn cstr(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    out.push(0);
    out
}

/// A startup packet, protocol 3.0.
pub fn startup(parameters: &[(&str, &str)]) -> Vec<u8> {
    let mut body = 196_608i32.to_be_bytes().to_vec();
    for (key, value) in parameters {
        body.extend(cstr(key.as_bytes()));
        body.extend(cstr(value.as_bytes()));
    }
    body.push(0);
    let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
    out.extend(body);
    out
}
