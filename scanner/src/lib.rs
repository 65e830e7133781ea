//! `policy-scan`: the Gatehouse CI scanner, as a library the binary drives.

pub mod baseline;
pub mod catalog;
pub mod cluster_audit;
pub mod compliance_report;
pub mod discover;
pub mod documents;
pub mod format;
pub mod images;
pub mod process;
pub mod render;
pub mod report;
pub mod scan;
pub mod terraform;
pub mod trivy;
pub mod waive;
