//! The extended protocol's `Execute`, streamed.
//!
//! pgwire 0.41 answers `Execute` by parking the query's row stream in the portal and then
//! fetching from it into a `Vec` sized by the row limit: asked for every row (`max_rows = 0`,
//! what drivers send unless a fetch size is set) it first collected the whole result in the
//! server's memory; asked for `i32::MAX` rows it reserved room for that many rows (~80 GB,
//! the process aborted); and a negative limit, cast to `usize`, overflowed the allocation.
//!
//! Here every `Execute` of a portal with rows streams them as they are produced: up to the
//! limit (`max_rows <= 0` is no limit, as in PostgreSQL), then `PortalSuspended` with the rest
//! of the stream parked in the portal for the next `Execute`, or `CommandComplete` at the end.
//! Nothing is buffered beyond the row being sent, whatever the limit. Empty, finished and
//! unknown portals keep pgwire's own answers, which buffer nothing.

use std::fmt::Debug;

use datafusion_postgres::pgwire::api::portal::{Portal, PortalExecutionState};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, send_execution_response};
use datafusion_postgres::pgwire::api::results::{QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState, copy,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::{Execute, PortalSuspended};
use datafusion_postgres::pgwire::messages::response::EmptyQueryResponse;
use futures::{Sink, SinkExt, StreamExt};

/// Answers `message`, streaming the rows of its portal (see the module documentation).
pub async fn execute<H, C>(handler: &H, client: &mut C, mut message: Execute) -> PgWireResult<()>
where
    H: ExtendedQueryHandler,
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = H::Statement>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    // PostgreSQL: a limit of zero or less means every row.
    let max_rows = usize::try_from(message.max_rows).unwrap_or(0);
    message.max_rows = message.max_rows.max(0);
    let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    let Some(Entry::Value(portal)) = client.portal_store().get_portal(name) else {
        return handler._on_execute(client, message).await;
    };
    let fresh = matches!(*portal.state.lock().await, PortalExecutionState::Initial);
    if fresh {
        return start(handler, client, &portal, max_rows).await;
    }
    let mut state = portal.state.lock().await;
    // Finished unless more rows remain (also when sending fails half-way).
    let mut results = match std::mem::replace(&mut *state, PortalExecutionState::Finished) {
        PortalExecutionState::Suspended(results) => results,
        // Finished: pgwire answers with an empty completion.
        other => {
            *state = other;
            drop(state);
            return handler._on_execute(client, message).await;
        }
    };
    if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
        *state = PortalExecutionState::Suspended(results);
        return Err(PgWireError::NotReadyForQuery);
    }
    client.set_state(PgWireConnectionState::QueryInProgress);
    if !send_rows(client, &mut results, max_rows).await? {
        *state = PortalExecutionState::Suspended(results);
    }
    client.set_state(PgWireConnectionState::ReadyForQuery);
    Ok(())
}

/// Runs `portal` and sends its answer, at most `max_rows` rows of it (0: all).
async fn start<H, C>(
    handler: &H,
    client: &mut C,
    portal: &Portal<H::Statement>,
    max_rows: usize,
) -> PgWireResult<()>
where
    H: ExtendedQueryHandler,
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = H::Statement>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
        return Err(PgWireError::NotReadyForQuery);
    }
    let mut transaction_status = client.transaction_status();
    client.set_state(PgWireConnectionState::QueryInProgress);
    let response = handler.do_query(client, portal, max_rows).await?;
    *portal.state.lock().await = PortalExecutionState::Finished;
    match response {
        Response::Query(mut results) => {
            if !send_rows(client, &mut results, max_rows).await? {
                *portal.state.lock().await = PortalExecutionState::Suspended(results);
            }
        }
        Response::EmptyQuery => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
        }
        Response::Execution(tag) => send_execution_response(client, tag).await?,
        Response::TransactionStart(tag) => {
            send_execution_response(client, tag).await?;
            transaction_status = transaction_status.to_in_transaction_state();
        }
        Response::TransactionEnd(tag) => {
            send_execution_response(client, tag).await?;
            transaction_status = transaction_status.to_idle_state();
            client.portal_store().rm_portal(DEFAULT_NAME);
        }
        Response::Error(error) => {
            client
                .send(PgWireBackendMessage::ErrorResponse((*error).into()))
                .await?;
            transaction_status = transaction_status.to_error_state();
        }
        Response::CopyIn(result) => {
            client.set_state(PgWireConnectionState::CopyInProgress(true));
            copy::send_copy_in_response(client, result).await?;
        }
        Response::CopyOut(result) => copy::send_copy_out_response(client, result).await?,
        Response::CopyBoth(result) => {
            client.set_state(PgWireConnectionState::CopyInProgress(true));
            copy::send_copy_both_response(client, result).await?;
        }
    }
    if !matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(transaction_status);
    }
    Ok(())
}

/// Sends rows of `results` as they come, at most `max_rows` (0: all), then `CommandComplete`
/// (the rows ran out: `true`) or `PortalSuspended` (the limit was reached: `false`, and
/// `results` holds the rest).
async fn send_rows<C>(
    client: &mut C,
    results: &mut QueryResponse,
    max_rows: usize,
) -> PgWireResult<bool>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let tag = results.command_tag().to_string();
    let rows = results.data_rows();
    let mut count = 0usize;
    while max_rows == 0 || count < max_rows {
        let Some(row) = rows.next().await else {
            client
                .send(PgWireBackendMessage::CommandComplete(
                    Tag::new(&tag).with_rows(count).into(),
                ))
                .await?;
            return Ok(true);
        };
        client.feed(PgWireBackendMessage::DataRow(row?)).await?;
        count += 1;
    }
    client
        .send(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
        .await?;
    Ok(false)
}
