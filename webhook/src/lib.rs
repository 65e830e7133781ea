//! `policy-webhook`: admission over the Gatehouse engine, as a library the binary drives.

pub mod admission;
pub mod server;
pub mod tls;
