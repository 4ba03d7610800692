//! The extended protocol's `Execute`, streamed.
//!
//! pgwire 0.41 answers `Execute` by parking the query's row stream in the portal and then
//! fetching from it; asked for every row (`max_rows = 0`, what drivers send unless a fetch size
//! is set) the fetch first collects all of them into one `Vec`, so a 300,000-row result sat in
//! the server's memory before the first row left. Here the rows go out as they are produced,
//! exactly as with the simple protocol. `Execute` with a row limit (cursors, JDBC fetch size)
//! keeps pgwire's own handling, whose buffer is bounded by that limit.

use std::fmt::Debug;

use datafusion_postgres::pgwire::api::portal::{Portal, PortalExecutionState};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, send_execution_response};
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState, copy,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::Execute;
use datafusion_postgres::pgwire::messages::response::EmptyQueryResponse;
use futures::{Sink, SinkExt, StreamExt};

/// The portal `message` executes, when it is one this module streams: a started-fresh portal
/// asked for all its rows. `None` leaves the message to pgwire.
pub async fn streamable<C, S>(client: &C, message: &Execute) -> Option<std::sync::Arc<Portal<S>>>
where
    C: ClientPortalStore,
    C::PortalStore: PortalStore<Statement = S>,
{
    if message.max_rows != 0 {
        return None;
    }
    let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    let Some(Entry::Value(portal)) = client.portal_store().get_portal(name) else {
        return None;
    };
    let fresh = matches!(*portal.state.lock().await, PortalExecutionState::Initial);
    fresh.then_some(portal)
}

/// Runs `portal` and sends its whole answer, rows streamed.
pub async fn execute_streaming<H, C>(
    handler: &H,
    client: &mut C,
    portal: &Portal<H::Statement>,
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
    let response = handler.do_query(client, portal, 0).await?;
    *portal.state.lock().await = PortalExecutionState::Finished;
    match response {
        Response::Query(mut results) => {
            let tag = results.command_tag().to_string();
            let rows = results.data_rows();
            let mut count = 0usize;
            while let Some(row) = rows.next().await {
                client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                count += 1;
            }
            client
                .send(PgWireBackendMessage::CommandComplete(
                    Tag::new(&tag).with_rows(count).into(),
                ))
                .await?;
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
