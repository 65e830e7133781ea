locals {
  # Scaleway IAM presents each IAM group a member belongs to as the Kubernetes group
  # scaleway:group:<group ID>; KubernetesSystemMastersGroupAccess adds system:masters.
  kubernetes_groups = {
    platform_admins = "scaleway:group:${scaleway_iam_group.platform_admins.id}"
    developers      = "scaleway:group:${scaleway_iam_group.developers.id}"
    auditors        = "scaleway:group:${scaleway_iam_group.auditors.id}"
    break_glass     = "system:masters"
  }

  # Shaped like the rbac value of charts/platform-baseline.
  baseline_rbac = {
    groups = {
      platformAdmins = concat([local.kubernetes_groups.platform_admins], var.additional_kubernetes_groups.platformAdmins)
      developers     = concat([local.kubernetes_groups.developers], var.additional_kubernetes_groups.developers)
      auditors       = concat([local.kubernetes_groups.auditors], var.additional_kubernetes_groups.auditors)
    }
    # Break-glass goes through IAM (system:masters), not through a cluster-admin binding.
    breakGlass = {
      enabled       = false
      groups        = []
      allowedGroups = []
    }
  }
}

output "group_ids" {
  description = "IDs of the IAM groups, by role: platform_admins, developers, auditors, break_glass."
  value = {
    platform_admins = scaleway_iam_group.platform_admins.id
    developers      = scaleway_iam_group.developers.id
    auditors        = scaleway_iam_group.auditors.id
    break_glass     = scaleway_iam_group.break_glass.id
  }
}

output "kubernetes_groups" {
  description = "Kubernetes group name each IAM group's members carry in the cluster, by role (break_glass: system:masters)."
  value       = local.kubernetes_groups
}

output "group_mapping" {
  description = "For each IAM group name: its role, its ID, the Kubernetes group its members carry, the platform-baseline rbac entry it fills and its permission sets."
  value = {
    (scaleway_iam_group.platform_admins.name) = {
      role             = "platform_admins"
      id               = scaleway_iam_group.platform_admins.id
      kubernetes_group = local.kubernetes_groups.platform_admins
      baseline_rbac    = "rbac.groups.platformAdmins"
      permission_sets  = var.platform_admin_permission_sets
    }
    (scaleway_iam_group.developers.name) = {
      role             = "developers"
      id               = scaleway_iam_group.developers.id
      kubernetes_group = local.kubernetes_groups.developers
      baseline_rbac    = "rbac.groups.developers"
      permission_sets  = var.developer_permission_sets
    }
    (scaleway_iam_group.auditors.name) = {
      role             = "auditors"
      id               = scaleway_iam_group.auditors.id
      kubernetes_group = local.kubernetes_groups.auditors
      baseline_rbac    = "rbac.groups.auditors"
      permission_sets  = var.auditor_permission_sets
    }
    (scaleway_iam_group.break_glass.name) = {
      role             = "break_glass"
      id               = scaleway_iam_group.break_glass.id
      kubernetes_group = local.kubernetes_groups.break_glass
      baseline_rbac    = "none (system:masters through IAM; rbac.breakGlass stays disabled)"
      permission_sets  = ["KubernetesSystemMastersGroupAccess", "AllProductsReadOnly"]
    }
  }
}

output "baseline_rbac" {
  description = "The rbac.groups and rbac.breakGlass values of charts/platform-baseline for this environment."
  value       = local.baseline_rbac
}

output "baseline_rbac_values" {
  description = "baseline_rbac as a YAML document ({rbac: ...}), for the baseline_values of the platform-addons module (after the environment's values file, which it overrides)."
  value       = yamlencode({ rbac = local.baseline_rbac })
}

output "cluster_admin_allowed_subjects" {
  description = "The allowedSubjects parameter of the Gatehouse policy restrict-cluster-admin-bindings that matches this access model: only system:masters."
  value       = [{ kind = "Group", name = "system:masters" }]
}
