//! Terraform: a plan as `terraform show -json` writes it, or `.tf` sources read statically into
//! the same shape, split into one [`Resource`] per managed resource that the plan keeps.
//!
//! A Terraform policy sees `input.resource`, the resource's entry of `resource_changes`, and
//! `input.plan`, the whole plan (`resource_changes`, `planned_values`, `configuration`), as
//! Conftest users know it. Its violations' paths point into `change.after`, the values after
//! apply. A value known only after apply is `null` there and `true` in `change.after_unknown`.

pub mod hcl;
pub mod plan;
pub mod sources;

pub use plan::{Plan, PlanError, Resource, Skipped};
pub use sources::{BlockSpan, SourceMap};

/// The group under which the bundle routes Terraform resource types; no Kubernetes apiVersion
/// has it (a group is a DNS subdomain).
pub const GROUP: &str = "#terraform";
