//! `policy-webhook`: admission over the Gatehouse engine, as a library the binary drives.

pub mod admission;
pub mod background_audit;
pub mod cluster;
pub mod dev;
pub mod generation;
pub mod metrics;
pub mod server;
pub mod tls;

/// A mutex's contents even when a thread panicked holding it: the webhook's shared state stays
/// consistent between statements, and a panicked request must not stop the others.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
