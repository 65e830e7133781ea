//! `policy-webhook`: admission over the Gatehouse engine, as a library the binary drives.

pub mod admission;
pub mod dev;
pub mod server;
pub mod tls;
