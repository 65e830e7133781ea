//! `policy-webhook`: admission over the Gatehouse engine, as a library the binary drives.

pub mod admission;
pub mod cluster;
pub mod dev;
pub mod generation;
pub mod metrics;
pub mod server;
pub mod tls;
