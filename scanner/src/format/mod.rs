//! One file per output format, each rendering the same [`Report`](crate::report::Report).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::collections::HashMap;
use std::sync::Arc;

/// The source texts, to quote the offending line.
pub type Sources = HashMap<Arc<str>, Arc<str>>;
