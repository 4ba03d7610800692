//! One client connection, read frame by frame: our own loop in place of pgwire's
//! `process_socket`, built from pgwire's public pieces (`negotiate_tls`, its codec,
//! `process_message`, `process_error`).
//!
//! pgwire's decoder trusts the lengths and counts inside a message: a Bind parameter claiming
//! more bytes than the message holds, a negative count or an empty Close panics the task, and
//! it accepts messages of up to 1 GiB. So every frame is cut out of the stream on its own
//! (never allocating by its declared length), checked against the message layout here
//! ([`check_frame`]), and only then decoded by pgwire, alone, so a decoder can never read into
//! the next message. A malformed frame gets `FATAL 08P01` and the connection closes, as in
//! PostgreSQL; a frame past `--max-message-bytes` gets `FATAL 54000`; Query or Parse text
//! that is not UTF-8 gets `ERROR 22021` and the session goes on.
//!
//! Also here: the authentication timeout (`--auth-timeout`, covering TLS, the startup packet
//! and SCRAM), the answer to connections over `--max-connections` (`FATAL 53300` once the
//! startup packet is read; a cancel request is still served), and the end of a connection
//! after any `FATAL` (pgwire's own loop would read on after one).

use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::cancel::CancelHandler;
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, ErrorHandler, PgWireConnectionState,
    PgWireServerHandlers,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::extendedquery::Bind;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use datafusion_postgres::pgwire::tokio::server::{
    MaybeTls, PgWireMessageServerCodec, negotiate_tls, process_error, process_message,
};
use futures::{FutureExt, SinkExt};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::{Decoder, Framed};

use super::errors::user_error;
use super::notify::{self, Listening, Subscription};
use datafusion_postgres::pgwire::messages::response::NotificationResponse;
use tokio::sync::broadcast::error::RecvError;

/// The default of `--max-message-bytes`: 16 MiB, room for large Bind parameters; a statement's
/// text is held to [`crate::limits::DEFAULT_MAX_STATEMENT_BYTES`] (1 MiB) after the message
/// is read, with a plain error (54000) and the session going on.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;

/// After a frame larger than this, the read buffer is copied into a fresh one, so the large
/// allocation goes with the frame instead of staying with the connection.
const KEEP_BUFFER_BYTES: usize = 1 << 20;

/// The largest message pgwire decodes at all (its `LARGE_PACKET_SIZE_LIMIT`, 1 GiB - 2): the
/// ceiling of `--max-message-bytes`.
pub const PROTOCOL_MAX_MESSAGE_BYTES: usize = 0x3fff_fffe;

/// The longest startup packet, and the longest message of the types that are never long
/// (Execute, Describe, Close, Sync, Flush, Terminate, CopyDone, CopyFail, password): PostgreSQL's
/// and pgwire's limit alike.
const SMALL_MESSAGE_BYTES: usize = 10_000;

/// How long sending a `FATAL` error may take before the connection is dropped anyway.
const FATAL_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The read buffer grows by at most this much per read, whatever length a frame declares.
const READ_CHUNK: usize = 64 << 10;

/// SQLSTATE of text that is not valid UTF-8 (`character_not_in_repertoire`).
const INVALID_ENCODING: &str = "22021";

/// SQLSTATE of a malformed message (`protocol_violation`).
const PROTOCOL_VIOLATION: &str = "08P01";

/// The request code of a CancelRequest packet.
const CANCEL_REQUEST_CODE: i32 = 80_877_102;
/// The request code of an SSLRequest packet.
const SSL_REQUEST_CODE: i32 = 80_877_103;
/// The request code of a GSSENCRequest packet.
const GSSENC_REQUEST_CODE: i32 = 80_877_104;

/// The limits one connection runs under.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Time from accepting the connection to the end of authentication (TLS handshake,
    /// startup packet, SCRAM); past it the connection is closed.
    pub auth_timeout: Duration,
    /// The longest message accepted (Query, Parse, Bind, CopyData); longer ones end the
    /// connection with `FATAL 54000`.
    pub max_message_bytes: usize,
}

/// What a connection is there for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A slot under `--max-connections`: served.
    Admitted,
    /// Over `--max-connections`: a cancel request is served, a startup packet answered with
    /// `FATAL 53300`.
    Full,
}

/// Where in the conversation a frame arrives: it decides the header and the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the startup packet: frames have no type byte (startup, cancel request).
    Startup,
    /// The first password-family message of a SCRAM exchange: a SASLInitialResponse.
    SaslInitial,
    /// Every other frame: a type byte and a length.
    Typed,
}

/// Why a frame is refused: the SQLSTATE and the message the client receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// SQLSTATE: 08P01 (malformed), 54000 (too long), 0A000 (protocol version), 22021
    /// (text not in UTF-8).
    pub code: &'static str,
    /// One-line message.
    pub message: String,
}

impl FrameError {
    /// A malformed message (`08P01`).
    fn malformed(detail: impl std::fmt::Display) -> Self {
        Self {
            code: PROTOCOL_VIOLATION,
            message: format!("invalid message format: {detail}"),
        }
    }

    /// A protocol violation with PostgreSQL's own wording (`08P01`).
    fn violation(message: impl Into<String>) -> Self {
        Self {
            code: PROTOCOL_VIOLATION,
            message: message.into(),
        }
    }

    /// Whether the connection ends with it: everything but text not in UTF-8.
    pub fn is_fatal(&self) -> bool {
        self.code != INVALID_ENCODING
    }
}

/// The length of the whole frame that starts with `header` (its first 4 bytes in the
/// [`Phase::Startup`] phase, else 5), checked before any more of it is read.
pub fn frame_length(
    header: &[u8],
    phase: Phase,
    max_message_bytes: usize,
) -> Result<usize, FrameError> {
    if phase == Phase::Startup {
        let length =
            be_i32(header, 0).ok_or_else(|| FrameError::violation("incomplete startup packet"))?;
        return match usize::try_from(length) {
            Ok(length) if (8..=SMALL_MESSAGE_BYTES).contains(&length) => Ok(length),
            _ => Err(FrameError::violation(format!(
                "invalid length of startup packet: {length} bytes"
            ))),
        };
    }
    let (Some(&tag), Some(length)) = (header.first(), be_i32(header, 1)) else {
        return Err(FrameError::violation("incomplete message header"));
    };
    let long = match tag {
        b'Q' | b'P' | b'B' | b'd' => true,
        b'E' | b'D' | b'C' | b'S' | b'H' | b'X' | b'c' | b'f' | b'p' => false,
        other => {
            return Err(FrameError::violation(format!(
                "invalid frontend message type {other}"
            )));
        }
    };
    let length = match usize::try_from(length) {
        Ok(length) if length >= 4 => length,
        _ => {
            return Err(FrameError::violation(format!(
                "invalid message length {length} in a '{}' message",
                char::from(tag)
            )));
        }
    };
    if !long && length > SMALL_MESSAGE_BYTES {
        return Err(FrameError::violation(format!(
            "invalid message length {length} in a '{}' message (at most {SMALL_MESSAGE_BYTES})",
            char::from(tag)
        )));
    }
    let limit = max_message_bytes.min(PROTOCOL_MAX_MESSAGE_BYTES);
    if length > limit {
        return Err(FrameError {
            code: "54000",
            message: format!(
                "message too long: {length} bytes, the limit is {limit} bytes (--max-message-bytes)"
            ),
        });
    }
    Ok(length + 1)
}

/// Checks one whole frame (header included) against the layout of its message, and its
/// strings for UTF-8; `Ok` means pgwire can decode it without reading past it or panicking.
pub fn check_frame(frame: &[u8], phase: Phase) -> Result<(), FrameError> {
    if phase == Phase::Startup {
        return check_startup(frame);
    }
    let (Some(&tag), Some(length)) = (frame.first(), be_i32(frame, 1)) else {
        return Err(FrameError::violation("incomplete message header"));
    };
    if usize::try_from(length).ok().and_then(|l| l.checked_add(1)) != Some(frame.len()) {
        return Err(FrameError::violation(format!(
            "invalid message length {length} in a '{}' message of {} bytes",
            char::from(tag),
            frame.len()
        )));
    }
    let body = &frame[5..];
    match tag {
        b'Q' => {
            let mut r = Body::new(body, "query");
            let query = r.cstring()?;
            r.end()?;
            utf8_text(query)
        }
        b'P' => {
            let mut r = Body::new(body, "parse");
            let name = r.cstring()?;
            let query = r.cstring()?;
            let types = r.count("parameter type")?;
            r.take(types * 4)?;
            r.end()?;
            utf8_text(name)?;
            utf8_text(query)
        }
        b'B' => check_bind(body),
        b'E' => {
            let mut r = Body::new(body, "execute");
            let portal = r.cstring()?;
            r.i32()?;
            r.end()?;
            r.utf8(portal)
        }
        b'D' | b'C' => {
            let what = if tag == b'D' { "describe" } else { "close" };
            let mut r = Body::new(body, what);
            let target = r.take(1)?;
            if !matches!(target, [b'S' | b'P']) {
                return Err(FrameError::malformed(format!(
                    "{what} message has target type {:?}, not 'S' or 'P'",
                    target.first().map(|b| char::from(*b))
                )));
            }
            let name = r.cstring()?;
            r.end()?;
            r.utf8(name)
        }
        b'S' => Body::new(body, "sync").end(),
        b'H' => Body::new(body, "flush").end(),
        b'X' => Body::new(body, "terminate").end(),
        b'c' => Body::new(body, "copy done").end(),
        b'f' => {
            let mut r = Body::new(body, "copy fail");
            let reason = r.cstring()?;
            r.end()?;
            r.utf8(reason)
        }
        b'p' if phase == Phase::SaslInitial => {
            let mut r = Body::new(body, "SASL initial response");
            let mechanism = r.cstring()?;
            let length = r.i32()?;
            // -1: no data; else exactly the rest of the message.
            if length != -1 {
                match usize::try_from(length) {
                    Ok(length) if length == r.remaining() => {
                        r.take(length)?;
                    }
                    _ => {
                        return Err(FrameError::malformed(format!(
                            "SASL initial response claims {length} bytes of data, {} follow",
                            r.remaining()
                        )));
                    }
                }
            }
            r.end()?;
            r.utf8(mechanism)
        }
        // CopyData, and the later SASL responses: any bytes.
        b'd' | b'p' => Ok(()),
        other => Err(FrameError::violation(format!(
            "invalid frontend message type {other}"
        ))),
    }
}

/// A Bind: two names, the parameter formats, the parameters (each -1 for NULL or a length
/// and that many bytes), the result formats, and nothing after.
fn check_bind(body: &[u8]) -> Result<(), FrameError> {
    let mut r = Body::new(body, "bind");
    let portal = r.cstring()?;
    let statement = r.cstring()?;
    let formats = r.count("parameter format")?;
    r.take(formats * 2)?;
    let parameters = r.count("parameter")?;
    for n in 1..=parameters {
        let length = r.i32()?;
        if length == -1 {
            continue;
        }
        match usize::try_from(length) {
            Ok(length) if length <= r.remaining() => {
                r.take(length)?;
            }
            _ => {
                return Err(FrameError::malformed(format!(
                    "bind message parameter {n} claims {length} bytes, {} remain",
                    r.remaining()
                )));
            }
        }
    }
    if formats > 1 && formats != parameters {
        return Err(FrameError::malformed(format!(
            "bind message has {formats} parameter formats but {parameters} parameters"
        )));
    }
    let results = r.count("result format")?;
    r.take(results * 2)?;
    r.end()?;
    r.utf8(portal)?;
    r.utf8(statement)
}

/// A startup packet (protocol 3, `key\0value\0` pairs and a final `\0`) or a cancel request.
fn check_startup(frame: &[u8]) -> Result<(), FrameError> {
    let (Some(length), Some(code)) = (be_i32(frame, 0), be_i32(frame, 4)) else {
        return Err(FrameError::violation("incomplete startup packet"));
    };
    if usize::try_from(length).ok() != Some(frame.len()) {
        return Err(FrameError::violation(format!(
            "invalid length of startup packet: {length} bytes, {} received",
            frame.len()
        )));
    }
    match code {
        // Process id and a secret key of 4 to 256 bytes.
        CANCEL_REQUEST_CODE if (16..=268).contains(&frame.len()) => return Ok(()),
        CANCEL_REQUEST_CODE => {
            return Err(FrameError::violation(format!(
                "invalid length of cancel request: {length} bytes"
            )));
        }
        SSL_REQUEST_CODE | GSSENC_REQUEST_CODE => {
            return Err(FrameError::violation(
                "unexpected encryption request after the connection was set up",
            ));
        }
        _ => {}
    }
    let (major, minor) = (code >> 16, code & 0xffff);
    if major != 3 {
        return Err(FrameError {
            code: "0A000",
            message: format!(
                "unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.2"
            ),
        });
    }
    let mut r = Body::new(&frame[8..], "startup");
    loop {
        let key = r.cstring().map_err(|_| {
            FrameError::violation("invalid startup packet layout: expected terminator as last byte")
        })?;
        if key.is_empty() {
            return r.end().map_err(|_| {
                FrameError::violation(
                    "invalid startup packet layout: expected terminator as last byte",
                )
            });
        }
        let value = r.cstring().map_err(|_| {
            FrameError::violation("invalid startup packet layout: expected terminator as last byte")
        })?;
        r.utf8(key)?;
        r.utf8(value)?;
    }
}

/// Text of a Query or Parse message: not UTF-8 is PostgreSQL's `ERROR 22021`, with the bytes
/// of the first bad character.
fn utf8_text(text: &[u8]) -> Result<(), FrameError> {
    let Err(e) = std::str::from_utf8(text) else {
        return Ok(());
    };
    let bad = &text[e.valid_up_to()..];
    // As PostgreSQL reports it: as many bytes as the lead byte announces (at most what is there).
    let announced = match bad.first() {
        Some(0xc0..=0xdf) => 2,
        Some(0xe0..=0xef) => 3,
        Some(0xf0..=0xf7) => 4,
        _ => 1,
    };
    let bytes: Vec<String> = bad
        .iter()
        .take(announced)
        .map(|b| format!("0x{b:02x}"))
        .collect();
    Err(FrameError {
        code: INVALID_ENCODING,
        message: format!(
            "invalid byte sequence for encoding \"UTF8\": {}",
            bytes.join(" ")
        ),
    })
}

/// The big-endian `i32` at `at`, if there are 4 bytes there.
fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes([field[0], field[1], field[2], field[3]]))
}

/// Reads a message body front to back; every read that runs past the end is an error.
struct Body<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Body<'a> {
    fn new(body: &'a [u8], what: &'static str) -> Self {
        Self { rest: body, what }
    }

    fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.rest.len() {
            return Err(FrameError::malformed(format!(
                "{} message needs {n} more bytes, {} remain",
                self.what,
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// A NUL-terminated string, without its NUL.
    fn cstring(&mut self) -> Result<&'a [u8], FrameError> {
        let Some(end) = self.rest.iter().position(|b| *b == 0) else {
            return Err(FrameError::malformed(format!(
                "{} message has an unterminated string",
                self.what
            )));
        };
        let text = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Ok(text)
    }

    fn i16(&mut self) -> Result<i16, FrameError> {
        let bytes = self.take(2)?;
        Ok(i16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn i32(&mut self) -> Result<i32, FrameError> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// An `i16` count that must not be negative.
    fn count(&mut self, of: &str) -> Result<usize, FrameError> {
        let count = self.i16()?;
        usize::try_from(count).map_err(|_| {
            FrameError::malformed(format!(
                "{} message has a negative {of} count ({count})",
                self.what
            ))
        })
    }

    /// Nothing may follow.
    fn end(&self) -> Result<(), FrameError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(FrameError::malformed(format!(
                "{} message has {} bytes past its end",
                self.what,
                self.rest.len()
            )))
        }
    }

    /// A name or other string that is not statement text: not UTF-8 is malformed.
    fn utf8(&self, text: &[u8]) -> Result<(), FrameError> {
        std::str::from_utf8(text).map(|_| ()).map_err(|_| {
            FrameError::malformed(format!(
                "{} message has a string that is not UTF-8",
                self.what
            ))
        })
    }
}

/// The negotiated socket, as pgwire's handlers see it.
type Socket<S> = Framed<MaybeTls, PgWireMessageServerCodec<S>>;

/// What reading the next frame gave.
enum Read {
    /// One whole frame, header included.
    Frame(BytesMut),
    /// The client went away (or the socket failed) before a whole frame arrived.
    Closed,
    /// The header says the frame cannot be accepted.
    Refused(FrameError),
}

/// Serves one accepted TCP connection until it ends.
pub async fn serve<H: PgWireServerHandlers>(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
    limits: ConnectionLimits,
    admission: Admission,
    subscription: Option<Subscription>,
) {
    let handlers = Handlers {
        startup: handlers.startup_handler(),
        simple: handlers.simple_query_handler(),
        extended: handlers.extended_query_handler(),
        copy: handlers.copy_handler(),
        cancel: handlers.cancel_handler(),
        errors: handlers.error_handler(),
    };
    handlers
        .run(tcp, tls, limits, admission, subscription)
        .await;
}

/// One connection's pgwire handlers.
struct Handlers<A, Q, EQ, C, CR, E> {
    startup: Arc<A>,
    simple: Arc<Q>,
    extended: Arc<EQ>,
    copy: Arc<C>,
    cancel: Arc<CR>,
    errors: Arc<E>,
}

impl<A, Q, EQ, C, CR, E> Handlers<A, Q, EQ, C, CR, E>
where
    A: StartupHandler,
    Q: SimpleQueryHandler,
    EQ: ExtendedQueryHandler,
    C: CopyHandler,
    CR: CancelHandler,
    E: ErrorHandler,
{
    /// The connection loop (pgwire's `process_socket`, with every frame checked first).
    async fn run(
        &self,
        tcp: TcpStream,
        tls: Option<TlsAcceptor>,
        limits: ConnectionLimits,
        admission: Admission,
        mut subscription: Option<Subscription>,
    ) {
        let deadline = Instant::now() + limits.auth_timeout;
        let negotiated =
            tokio::time::timeout_at(deadline, negotiate_tls::<EQ::Statement>(tcp, tls)).await;
        let Ok(Ok(Some(mut socket))) = negotiated else {
            // Timed out, failed, or direct TLS without a certificate configured.
            return;
        };
        if socket.is_secure() && !socket.read_buffer().is_empty() {
            // Bytes sent in plaintext before the handshake must not count as sent over TLS.
            fatal(
                &mut socket,
                PROTOCOL_VIOLATION,
                "received unencrypted data after SSL request",
            )
            .await;
            return;
        }
        // Whatever negotiation read past the SSLRequest (the startup packet, in plaintext).
        let mut buffer = socket.read_buffer_mut().split();
        let mut sasl_messages = 0usize;
        loop {
            let state = socket.state();
            let authenticating = matches!(
                state,
                PgWireConnectionState::AwaitingStartup
                    | PgWireConnectionState::AuthenticationInProgress
            );
            let phase = match state {
                PgWireConnectionState::AwaitingStartup => Phase::Startup,
                PgWireConnectionState::AuthenticationInProgress if sasl_messages == 0 => {
                    Phase::SaslInitial
                }
                _ => Phase::Typed,
            };
            let pending = !buffer.is_empty();
            let read = read_frame(
                socket.get_mut(),
                &mut buffer,
                phase,
                limits.max_message_bytes,
            );
            let read = if authenticating {
                match tokio::time::timeout_at(deadline, read).await {
                    Ok(read) => read,
                    Err(_) => return timed_out(&mut socket).await,
                }
            } else if let Some(events) = subscription
                .as_mut()
                .filter(|_| matches!(state, PgWireConnectionState::ReadyForQuery))
            {
                // Reading a frame keeps what it read in `buffer`: dropping it for a
                // notification loses nothing.
                // A message the client sent goes first; notifications wait until nothing of
                // one is buffered (not between the messages of a pipelined batch).
                let next = tokio::select! {
                    biased;
                    read = read => Ok(read),
                    event = events.events.recv(), if !pending => Err(event),
                };
                match next {
                    Ok(read) => read,
                    Err(event) => {
                        match deliver(&mut socket, &events.listening, event).await {
                            Delivered::Sent => {}
                            Delivered::Ended => subscription = None,
                            Delivered::Failed => return,
                        }
                        continue;
                    }
                }
            } else {
                read.await
            };
            let mut frame = match read {
                Read::Frame(frame) => frame,
                Read::Closed => return,
                Read::Refused(e) => return fatal(&mut socket, e.code, e.message).await,
            };
            let tag = match phase {
                Phase::Startup => None,
                _ => frame.first().copied(),
            };
            if matches!(state, PgWireConnectionState::AuthenticationInProgress) {
                match tag {
                    Some(b'p') => sasl_messages += 1,
                    Some(b'X') => return,
                    other => {
                        let got = other.map_or(0, i32::from);
                        return fatal(
                            &mut socket,
                            PROTOCOL_VIOLATION,
                            format!("expected SASL response, got message type {got}"),
                        )
                        .await;
                    }
                }
            }
            if let Err(e) = check_frame(&frame, phase) {
                if e.is_fatal() {
                    return fatal(&mut socket, e.code, e.message).await;
                }
                match state {
                    PgWireConnectionState::ReadyForQuery => {
                        let error = user_error(e.code, e.message);
                        let extended = tag == Some(b'P');
                        if process_error(&mut socket, error, extended).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    // Skipped until Sync, as every message after an extended-protocol error.
                    PgWireConnectionState::AwaitingSync => continue,
                    // Refused by pgwire as out of place (during COPY); the text is not used.
                    _ => {}
                }
            }
            let decoded = std::panic::catch_unwind(AssertUnwindSafe(|| {
                socket.codec_mut().decode(&mut frame)
            }));
            let message = match decoded {
                Ok(Ok(Some(message))) => message,
                Ok(Ok(None)) => {
                    return fatal(
                        &mut socket,
                        PROTOCOL_VIOLATION,
                        "invalid message format: incomplete message",
                    )
                    .await;
                }
                Ok(Err(e)) => {
                    let info = ErrorInfo::from(e);
                    return fatal(&mut socket, PROTOCOL_VIOLATION, info.message).await;
                }
                Err(_) => {
                    return fatal(
                        &mut socket,
                        "XX000",
                        "internal error: a message could not be decoded",
                    )
                    .await;
                }
            };
            match &message {
                PgWireFrontendMessage::Terminate(_) => return,
                PgWireFrontendMessage::Startup(_) if admission == Admission::Full => {
                    return fatal(&mut socket, "53300", "sorry, too many clients already").await;
                }
                // (Skipped, like any message, while waiting for Sync after an error.)
                PgWireFrontendMessage::Bind(bind)
                    if matches!(state, PgWireConnectionState::ReadyForQuery) =>
                {
                    if let Err(e) = self.check_result_formats(&socket, bind) {
                        if process_error(&mut socket, e, true).await.is_err() {
                            return;
                        }
                        continue;
                    }
                }
                _ => {}
            }
            let cancel_request = matches!(message, PgWireFrontendMessage::CancelRequest(_));
            let extended = match state {
                PgWireConnectionState::CopyInProgress(extended) => extended,
                _ => message.is_extended_query(),
            };
            let processed = AssertUnwindSafe(process_message(
                message,
                &mut socket,
                self.startup.clone(),
                self.simple.clone(),
                self.extended.clone(),
                self.copy.clone(),
                self.cancel.clone(),
            ))
            .catch_unwind();
            let processed = if authenticating {
                match tokio::time::timeout_at(deadline, processed).await {
                    Ok(processed) => processed,
                    Err(_) => return timed_out(&mut socket).await,
                }
            } else {
                processed.await
            };
            match processed {
                Ok(Ok(())) => {}
                Ok(Err(mut e)) => {
                    self.errors.on_error(&socket, &mut e);
                    let info = ErrorInfo::from(e);
                    if info.is_fatal() {
                        // Nothing after a FATAL: pgwire's loop would read on, in whatever
                        // state the failed message left (after a failed login, as logged in).
                        return send_fatal(&mut socket, info).await;
                    }
                    let error = PgWireError::UserError(Box::new(info));
                    if process_error(&mut socket, error, extended).await.is_err() {
                        return;
                    }
                }
                Err(_) => {
                    return fatal(&mut socket, "XX000", "internal error").await;
                }
            }
            if cancel_request {
                // A cancel request comes on a connection of its own, which ends with it.
                return;
            }
        }
    }

    /// A Bind with several result formats needs one per column of the statement (PostgreSQL's
    /// rule); pgwire would index past a shorter list when it formats the rows.
    fn check_result_formats(
        &self,
        socket: &Socket<EQ::Statement>,
        bind: &Bind,
    ) -> PgWireResult<()> {
        let formats = bind.result_column_format_codes.len();
        if formats <= 1 {
            return Ok(());
        }
        let name = bind.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
        // A missing statement is pgwire's to report; an empty one formats no rows.
        let Some(Entry::Value(statement)) = socket.portal_store().get_statement(name) else {
            return Ok(());
        };
        let columns = self
            .extended
            .query_parser()
            .get_result_schema(&statement.statement, None)?
            .len();
        if formats == columns {
            Ok(())
        } else {
            Err(user_error(
                PROTOCOL_VIOLATION,
                format!(
                    "bind message has {formats} result formats but query has {columns} columns"
                ),
            ))
        }
    }
}

/// Reads the next whole frame into its own buffer, growing `buffer` only as bytes arrive.
async fn read_frame(
    io: &mut MaybeTls,
    buffer: &mut BytesMut,
    phase: Phase,
    max_message_bytes: usize,
) -> Read {
    let header = if phase == Phase::Startup { 4 } else { 5 };
    if fill(io, buffer, header).await.is_err() {
        return Read::Closed;
    }
    let length = match frame_length(&buffer[..header], phase, max_message_bytes) {
        Ok(length) => length,
        Err(e) => return Read::Refused(e),
    };
    if fill(io, buffer, length).await.is_err() {
        return Read::Closed;
    }
    let frame = buffer.split_to(length);
    if length > KEEP_BUFFER_BYTES {
        *buffer = BytesMut::from(&buffer[..]);
    }
    Read::Frame(frame)
}

/// What delivering a notification did.
enum Delivered {
    /// Sent, or not for this connection.
    Sent,
    /// No more notifications will come.
    Ended,
    /// The client is gone.
    Failed,
}

/// Sends `event` to the client on each channel it listens to it on; a connection that fell
/// behind is warned how many it missed.
async fn deliver<S>(
    socket: &mut Socket<S>,
    listening: &Listening,
    event: Result<Arc<notify::Announcement>, RecvError>,
) -> Delivered {
    let (pid, _) = socket.pid_and_secret_key();
    let messages: Vec<PgWireBackendMessage> = match event {
        Ok(n) => {
            let payload = notify::payload(&n);
            listening
                .channels_for(&n)
                .into_iter()
                .map(|channel| {
                    PgWireBackendMessage::NotificationResponse(NotificationResponse::new(
                        pid,
                        channel,
                        payload.clone(),
                    ))
                })
                .collect()
        }
        Err(RecvError::Lagged(missed)) if listening.is_listening() => {
            let warning = ErrorInfo::new(
                "WARNING".to_string(),
                "01000".to_string(),
                format!(
                    "{missed} webhook notifications were not delivered to this connection (it fell behind); they are in webhook_events"
                ),
            );
            vec![PgWireBackendMessage::NoticeResponse(warning.into())]
        }
        Err(RecvError::Lagged(_)) => Vec::new(),
        Err(RecvError::Closed) => return Delivered::Ended,
    };
    if messages.is_empty() {
        return Delivered::Sent;
    }
    let sent = tokio::time::timeout(FATAL_WRITE_TIMEOUT, async {
        for message in messages {
            socket.feed(message).await?;
        }
        socket.flush().await
    })
    .await;
    match sent {
        Ok(Ok(())) => Delivered::Sent,
        _ => Delivered::Failed,
    }
}

/// Reads until `buffer` holds `wanted` bytes; an error at the end of the stream.
async fn fill(io: &mut MaybeTls, buffer: &mut BytesMut, wanted: usize) -> io::Result<()> {
    while buffer.len() < wanted {
        buffer.reserve((wanted - buffer.len()).min(READ_CHUNK));
        if io.read_buf(buffer).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

/// The authentication timeout passed: a client that sent its startup packet is told so
/// (PostgreSQL's message); one that sent nothing usable is just disconnected.
async fn timed_out<S>(socket: &mut Socket<S>) {
    if matches!(
        socket.state(),
        PgWireConnectionState::AuthenticationInProgress
    ) {
        fatal(socket, "57014", "canceling authentication due to timeout").await;
    }
}

/// Sends a `FATAL` error and closes the connection.
async fn fatal<S>(socket: &mut Socket<S>, code: &str, message: impl Into<String>) {
    let info = ErrorInfo::new("FATAL".to_string(), code.to_string(), message.into());
    send_fatal(socket, info).await;
}

/// Sends `info` (a `FATAL` error) and closes the connection, giving up after a few seconds
/// on a client that does not read.
async fn send_fatal<S>(socket: &mut Socket<S>, info: ErrorInfo) {
    let _ = tokio::time::timeout(FATAL_WRITE_TIMEOUT, async {
        socket
            .send(PgWireBackendMessage::ErrorResponse(info.into()))
            .await?;
        socket.close().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed frame: tag, length, body.
    fn typed(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![tag];
        frame.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    /// A startup-phase packet: length, then `body` (request code first).
    fn untyped(body: &[u8]) -> Vec<u8> {
        let mut frame = (body.len() as i32 + 4).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        frame
    }

    fn code(result: Result<(), FrameError>) -> &'static str {
        result.expect_err("refused").code
    }

    fn bind(formats: &[i16], parameters: &[Option<&[u8]>], results: &[i16]) -> Vec<u8> {
        let mut body = b"\0\0".to_vec();
        body.extend_from_slice(&(formats.len() as i16).to_be_bytes());
        for f in formats {
            body.extend_from_slice(&f.to_be_bytes());
        }
        body.extend_from_slice(&(parameters.len() as i16).to_be_bytes());
        for p in parameters {
            match p {
                Some(bytes) => {
                    body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    body.extend_from_slice(bytes);
                }
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        body.extend_from_slice(&(results.len() as i16).to_be_bytes());
        for r in results {
            body.extend_from_slice(&r.to_be_bytes());
        }
        typed(b'B', &body)
    }

    #[test]
    fn well_formed_frames_pass() {
        let frames = [
            typed(b'Q', b"SELECT 1\0"),
            typed(b'Q', b"\0"),
            typed(b'Q', "SELECT 'é'\0".as_bytes()),
            typed(b'P', b"s1\0SELECT $1\0\0\x01\0\0\0\x17"),
            typed(b'P', b"\0SELECT 1\0\0\0"),
            bind(&[], &[], &[]),
            bind(&[1], &[Some(b"ab"), None], &[0, 1]),
            bind(&[0, 1], &[Some(b""), Some(b"xyz")], &[1]),
            typed(b'E', b"\0\0\0\0\0"),
            typed(b'E', b"portal\0\xff\xff\xff\xff"),
            typed(b'D', b"S\0"),
            typed(b'C', b"Pname\0"),
            typed(b'S', b""),
            typed(b'H', b""),
            typed(b'X', b""),
            typed(b'c', b""),
            typed(b'f', b"stop\0"),
            typed(b'd', b"any\0bytes\xff"),
            typed(b'p', b"any SASL response"),
        ];
        for frame in frames {
            assert_eq!(check_frame(&frame, Phase::Typed), Ok(()), "{frame:?}");
        }
        let sasl = [
            typed(b'p', b"SCRAM-SHA-256\0\0\0\0\x03n,,"),
            typed(b'p', b"SCRAM-SHA-256\0\xff\xff\xff\xff"),
        ];
        for frame in sasl {
            assert_eq!(check_frame(&frame, Phase::SaslInitial), Ok(()), "{frame:?}");
        }
        let startup = [
            untyped(b"\0\x03\0\0user\0u\0database\0intercom\0\0"),
            untyped(b"\0\x03\0\x02\0"),
            untyped(b"\x04\xd2\x16\x2e\0\0\0\x01\0\0\0\x02"),
        ];
        for frame in startup {
            assert_eq!(check_frame(&frame, Phase::Startup), Ok(()), "{frame:?}");
        }
    }

    #[test]
    fn malformed_frames_are_protocol_violations() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "parse: negative type count",
                typed(b'P', b"\0SELECT 1\0\xff\xff"),
            ),
            (
                "parse: types missing",
                typed(b'P', b"\0SELECT 1\0\0\x02\0\0\0\x17"),
            ),
            ("parse: unterminated", typed(b'P', b"\0SELECT 1")),
            ("query: no NUL", typed(b'Q', b"SELECT 1")),
            ("query: bytes after", typed(b'Q', b"SELECT 1\0x")),
            ("query: two strings", typed(b'Q', b"SELECT 1\0SELECT 2\0")),
            (
                "bind: parameter claims 2^30 bytes",
                typed(b'B', b"\0\0\0\0\0\x01\x40\0\0\0abc\0\0"),
            ),
            (
                "bind: negative parameter length",
                typed(b'B', b"\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0"),
            ),
            (
                "bind: negative format count",
                typed(b'B', b"\0\0\xff\xff\0\0\0\0"),
            ),
            (
                "bind: negative parameter count",
                typed(b'B', b"\0\0\0\0\xff\xff\0\0"),
            ),
            (
                "bind: negative result count",
                typed(b'B', b"\0\0\0\0\0\0\xff\xff"),
            ),
            (
                "bind: 3 formats, 2 parameters",
                bind(&[0, 0, 0], &[None, None], &[]),
            ),
            (
                "bind: results missing",
                typed(b'B', b"\0\0\0\0\0\0\0\x02\0\0"),
            ),
            ("bind: trailing bytes", {
                let mut f = bind(&[], &[], &[]);
                f.push(0);
                let len = (f.len() - 1) as i32;
                f[1..5].copy_from_slice(&len.to_be_bytes());
                f
            }),
            ("close: empty", typed(b'C', b"")),
            ("describe: empty", typed(b'D', b"")),
            ("describe: bad target", typed(b'D', b"X\0")),
            ("describe: unterminated", typed(b'D', b"Sname")),
            ("execute: short", typed(b'E', b"\0\0")),
            ("execute: no name", typed(b'E', b"")),
            ("sync: body", typed(b'S', b"x")),
            ("copy fail: unterminated", typed(b'f', b"stop")),
            ("bind: portal not UTF-8", bind_named(b"\xc3\x28")),
        ];
        for (what, frame) in cases {
            let error = check_frame(&frame, Phase::Typed).expect_err(what);
            assert_eq!(error.code, "08P01", "{what}: {error:?}");
            assert!(error.is_fatal(), "{what}");
        }
        let e = check_frame(&bind(&[0, 0, 0], &[None, None], &[]), Phase::Typed).unwrap_err();
        assert_eq!(
            e.message,
            "invalid message format: bind message has 3 parameter formats but 2 parameters"
        );
        for (what, body) in [
            ("no data length", &b"SCRAM-SHA-256\0"[..]),
            ("length past the end", b"SCRAM-SHA-256\0\0\0\x03\xe8abc"),
            ("length short of the end", b"SCRAM-SHA-256\0\0\0\0\x01abc"),
            ("negative length", b"SCRAM-SHA-256\0\xff\xff\xff\xfb"),
            ("unterminated mechanism", b"SCRAM-SHA-256"),
        ] {
            assert_eq!(
                code(check_frame(&typed(b'p', body), Phase::SaslInitial)),
                "08P01",
                "{what}"
            );
        }
    }

    fn bind_named(portal: &[u8]) -> Vec<u8> {
        let mut body = portal.to_vec();
        body.extend_from_slice(b"\0\0\0\0\0\0\0\0");
        typed(b'B', &body)
    }

    #[test]
    fn a_frame_whose_length_disagrees_is_refused() {
        let mut frame = typed(b'Q', b"SELECT 1\0");
        frame.truncate(frame.len() - 1);
        assert_eq!(code(check_frame(&frame, Phase::Typed)), "08P01");
    }

    #[test]
    fn statement_text_not_in_utf8_is_22021_and_not_fatal() {
        for frame in [
            typed(b'Q', b"SELECT '\xc3\x28'\0"),
            typed(b'P', b"\0SELECT '\xc3\x28'\0\0\0"),
        ] {
            let e = check_frame(&frame, Phase::Typed).expect_err("not UTF-8");
            assert_eq!(e.code, "22021");
            assert_eq!(
                e.message,
                "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"
            );
            assert!(!e.is_fatal());
        }
        let e = check_frame(&typed(b'Q', b"SELECT 1 \xff\0"), Phase::Typed).unwrap_err();
        assert_eq!(
            e.message,
            "invalid byte sequence for encoding \"UTF8\": 0xff"
        );
        let e = check_frame(&typed(b'Q', b"x\xe2\x82\0"), Phase::Typed).unwrap_err();
        assert_eq!(
            e.message,
            "invalid byte sequence for encoding \"UTF8\": 0xe2 0x82"
        );
    }

    #[test]
    fn startup_packets_are_checked() {
        for (what, frame, expected) in [
            ("no terminator", untyped(b"\0\x03\0\0user\0u\0"), "08P01"),
            ("key without value", untyped(b"\0\x03\0\0user\0"), "08P01"),
            ("bytes after terminator", untyped(b"\0\x03\0\0\0x"), "08P01"),
            ("protocol 2", untyped(b"\0\x02\0\0user\0u\0\0"), "0A000"),
            (
                "short cancel",
                untyped(b"\x04\xd2\x16\x2e\0\0\0\x01"),
                "08P01",
            ),
            ("late SSLRequest", untyped(b"\x04\xd2\x16\x2f"), "08P01"),
            (
                "user not UTF-8",
                untyped(b"\0\x03\0\0user\0\xc3\x28\0\0"),
                "08P01",
            ),
        ] {
            assert_eq!(
                code(check_frame(&frame, Phase::Startup)),
                expected,
                "{what}"
            );
        }
    }

    #[test]
    fn headers_are_checked_before_the_body_is_read() {
        let max = DEFAULT_MAX_MESSAGE_BYTES;
        assert_eq!(frame_length(b"Q\0\0\0\x09", Phase::Typed, max), Ok(10));
        assert_eq!(frame_length(b"\0\0\0\x08", Phase::Startup, max), Ok(8));
        for (what, header, phase, expected) in [
            ("length below 4", &b"d\0\0\0\x02"[..], Phase::Typed, "08P01"),
            ("password length 0", b"p\0\0\0\0", Phase::Typed, "08P01"),
            (
                "negative length",
                b"Q\xff\xff\xff\xff",
                Phase::Typed,
                "08P01",
            ),
            ("unknown type", b"F\0\0\0\x04", Phase::Typed, "08P01"),
            ("long Execute", b"E\0\x01\0\0", Phase::Typed, "08P01"),
            ("huge query", b"Q\x7f\xff\xff\xff", Phase::Typed, "54000"),
            (
                "query past the limit",
                b"Q\x04\0\0\x01",
                Phase::Typed,
                "54000",
            ),
            ("short startup", b"\0\0\0\x04", Phase::Startup, "08P01"),
            ("huge startup", b"\0\x01\0\0", Phase::Startup, "08P01"),
        ] {
            assert_eq!(
                frame_length(header, phase, max)
                    .map(|_| ())
                    .map_err(|e| e.code),
                Err(expected),
                "{what}"
            );
        }
        let e = frame_length(b"Q\x04\0\0\x01", Phase::Typed, max).unwrap_err();
        assert_eq!(
            e.message,
            "message too long: 67108865 bytes, the limit is 16777216 bytes (--max-message-bytes)"
        );
    }
}
