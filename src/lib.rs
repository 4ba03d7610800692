//! intercom-sql: the Intercom REST API (version 2.15) as SQL tables on Apache DataFusion.
//!
//! Embedding: build a [`Config`], then either [`Engine::connect`] for a ready session, or
//! [`register_intercom`] to add the Intercom tables to a `SessionContext` of your own.

pub mod client;
pub mod config;
pub mod discovery;
pub mod dml;
pub mod emulator;
pub mod error;
pub mod explain;
pub mod limits;
pub mod print;
pub mod procedures;
pub mod process;
pub mod profiles;
pub mod provider;
pub mod pushdown;
pub mod repl;
pub mod server;
pub mod session;
pub mod settings;
pub mod snapshot;
pub mod suggest;
pub mod tables;
pub mod webhooks;

pub use config::{AccessToken, Config, Region};
pub use error::Error;
pub use session::{Engine, SessionFactory, TableInfo, register_intercom};
