//! Intercom's webhook signature: `X-Hub-Signature: sha1=<hex>`, the HMAC-SHA1 of the raw
//! request body keyed with the app's client secret.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The header Intercom signs each notification in.
pub const HEADER: &str = "x-hub-signature";

/// Why a delivery's signature was not accepted (never says what the right one would be).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No `X-Hub-Signature` header.
    Missing,
    /// The header is not `sha1=` and 40 hex digits.
    Malformed,
    /// The signature does not match the body.
    Mismatch,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::Missing => "missing X-Hub-Signature header",
            Refused::Malformed => "X-Hub-Signature is not sha1=<40 hex digits>",
            Refused::Mismatch => "X-Hub-Signature does not match the body",
        })
    }
}

/// Checks that `header` can be a signature (`sha1=` and 40 hex digits), before the body is
/// read.
pub fn check_header(header: Option<&[u8]>) -> Result<[u8; 20], Refused> {
    let header = header.ok_or(Refused::Missing)?;
    let hex = header.strip_prefix(b"sha1=").ok_or(Refused::Malformed)?;
    decode_hex(hex).ok_or(Refused::Malformed)
}

/// Checks `header` (the value of `X-Hub-Signature`) against `body`, in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&[u8]>) -> Result<(), Refused> {
    let expected = check_header(header)?;
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Refused::Mismatch)
}

/// The `X-Hub-Signature` value for `body` (what Intercom sends; used by tests and clients).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(45);
    out.push_str("sha1=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn mac(secret: &[u8]) -> Hmac<Sha1> {
    // HMAC takes a key of any length.
    <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

fn decode_hex(hex: &[u8]) -> Option<[u8; 20]> {
    if hex.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in hex.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_its_body_only() {
        // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        let signed = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(signed, "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        let body = b"what do ya want for nothing?";
        assert_eq!(verify(b"Jefe", body, Some(signed.as_bytes())), Ok(()));
        let upper = signed.to_uppercase().replace("SHA1=", "sha1=");
        assert_eq!(verify(b"Jefe", body, Some(upper.as_bytes())), Ok(()));
        assert_eq!(
            verify(
                b"Jefe",
                b"what do ya want for something?",
                Some(signed.as_bytes())
            ),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify(b"other", body, Some(signed.as_bytes())),
            Err(Refused::Mismatch)
        );
        assert_eq!(verify(b"Jefe", body, None), Err(Refused::Missing));
        for bad in [
            "sha256=abc",
            "sha1=xyz",
            "sha1=effcdf",
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
        ] {
            assert_eq!(
                verify(b"Jefe", body, Some(bad.as_bytes())),
                Err(Refused::Malformed),
                "{bad}"
            );
        }
    }
}
