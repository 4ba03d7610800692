//! Integration tests: one binary, modules per feature.
mod cli;
mod client;
mod clients;
mod common;
mod dml;
mod hostile;
mod hostile_faults;
mod hostile_fuzz;
mod hostile_wire;
mod openapi;
mod procedures;
mod pushdown;
mod repl;
mod server;
mod slt;
mod spec_fidelity;
mod tables;
