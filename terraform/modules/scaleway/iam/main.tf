locals {
  project_ids = [var.project_id]
}

# Membership is managed outside Terraform (console, SSO or the on-call procedure), so that
# adding a person is not a change to the infrastructure and Terraform never removes one.

resource "scaleway_iam_group" "platform_admins" {
  name                = "${var.name_prefix}-platform-admins"
  description         = "Platform administrators (operators) of ${var.environment}: namespace admin in the platform's namespaces, read-only elsewhere."
  external_membership = true
  tags                = var.tags
}

resource "scaleway_iam_group" "developers" {
  name                = "${var.name_prefix}-developers"
  description         = "Developers of ${var.environment}: what they may do per namespace is set by the platform-baseline chart (production: read-only)."
  external_membership = true
  tags                = var.tags
}

resource "scaleway_iam_group" "auditors" {
  name                = "${var.name_prefix}-auditors"
  description         = "Auditors of ${var.environment}: read-only access, Secrets excluded."
  external_membership = true
  tags                = var.tags
}

# Break-glass: empty in normal operation; a member is added for an incident and removed after.
# KubernetesSystemMastersGroupAccess maps to system:masters, which bypasses RBAC, so access
# survives a broken RBAC configuration; Audit Trail records the membership change.
resource "scaleway_iam_group" "break_glass" {
  name                = "${var.name_prefix}-break-glass"
  description         = "Break-glass access to the ${var.environment} cluster (system:masters). Empty outside incidents."
  external_membership = true
  tags                = var.tags
}

resource "scaleway_iam_policy" "platform_admins" {
  name        = "${var.name_prefix}-platform-admins"
  description = "Platform administrators of ${var.environment}, in its Project only."
  group_id    = scaleway_iam_group.platform_admins.id
  tags        = var.tags

  rule {
    project_ids          = local.project_ids
    permission_set_names = var.platform_admin_permission_sets
  }
}

resource "scaleway_iam_policy" "developers" {
  name        = "${var.name_prefix}-developers"
  description = "Developers of ${var.environment}, in its Project only."
  group_id    = scaleway_iam_group.developers.id
  tags        = var.tags

  rule {
    project_ids          = local.project_ids
    permission_set_names = var.developer_permission_sets
  }
}

resource "scaleway_iam_policy" "auditors" {
  name        = "${var.name_prefix}-auditors"
  description = "Auditors of ${var.environment}, in its Project only."
  group_id    = scaleway_iam_group.auditors.id
  tags        = var.tags

  rule {
    project_ids          = local.project_ids
    permission_set_names = var.auditor_permission_sets
  }
}

resource "scaleway_iam_policy" "break_glass" {
  name        = "${var.name_prefix}-break-glass"
  description = "Break-glass access to the ${var.environment} cluster, in its Project only."
  group_id    = scaleway_iam_group.break_glass.id
  tags        = var.tags

  rule {
    project_ids          = local.project_ids
    permission_set_names = ["KubernetesSystemMastersGroupAccess", "AllProductsReadOnly"]
  }
}
