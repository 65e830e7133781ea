locals {
  charts_dir = coalesce(var.charts_dir, "${path.module}/../../../charts")
  addons_dir = "${local.charts_dir}/addons"

  # charts/addons/versions.yaml: the pinned add-ons, keyed by release name.
  catalogue = { for addon in yamldecode(file("${local.addons_dir}/versions.yaml")) : addon.name => addon }
  enabled   = { for name, addon in local.catalogue : name => addon if lookup(var.enabled_addons, name, true) }

  # The label values the Gatehouse policy namespace-environment-label accepts.
  environment_label = {
    dev        = "development"
    staging    = "staging"
    production = "production"
  }[var.environment]

  # Install stages: an add-on is installed once every add-on it depends on (dependsOn in
  # versions.yaml) is, so stage N holds the add-ons whose dependencies are all in earlier stages.
  depends = { for name, addon in local.enabled : name => toset(try(addon.dependsOn, [])) }
  stage0  = toset([for name, deps in local.depends : name if length(deps) == 0])
  stage1  = toset([for name, deps in local.depends : name if !contains(local.stage0, name) && length(setsubtract(deps, local.stage0)) == 0])
  upto1   = setunion(local.stage0, local.stage1)
  stage2  = toset([for name, deps in local.depends : name if !contains(local.upto1, name) && length(setsubtract(deps, local.upto1)) == 0])
  upto2   = setunion(local.upto1, local.stage2)
  stage3  = toset([for name, deps in local.depends : name if !contains(local.upto2, name) && length(setsubtract(deps, local.upto2)) == 0])
  staged  = setunion(local.upto2, local.stage3)

  releases = {
    for name, addon in local.enabled : name => {
      repository = addon.repository
      chart      = addon.chart
      version    = addon.version
      namespace  = addon.namespace
      values = compact([
        file("${local.addons_dir}/${addon.values}"),
        lookup(var.addon_values, name, ""),
      ])
    }
  }

  # Namespaces of the enabled add-ons (and Gatehouse's, and the baseline release's), with the
  # Pod Security level each needs: a namespace shared by several add-ons takes the least strict
  # level any of them asks for.
  namespace_requests = concat(
    [for name, addon in local.enabled : { name = addon.namespace, level = try(addon.podSecurity, "restricted") }],
    flatten([for name, addon in local.enabled : [for extra in try(addon.extraNamespaces, []) : { name = extra.name, level = try(extra.podSecurity, "restricted") }]]),
    var.gatehouse_enabled ? [{ name = var.gatehouse_namespace, level = "restricted" }] : [],
    var.baseline_enabled ? [{ name = var.baseline_namespace, level = "restricted" }] : [],
  )
  namespace_levels = { for request in local.namespace_requests : request.name => request.level... }
  namespaces = {
    for name, levels in local.namespace_levels : name => (
      contains(levels, "privileged") ? "privileged" : contains(levels, "baseline") ? "baseline" : "restricted"
    )
  }

  # The platform-baseline chart is installed twice: before the add-ons without its monitoring
  # objects (the add-ons run at its PriorityClasses), and after kube-prometheus-stack with only
  # them (they need the PrometheusRule CRD and the monitoring namespace).
  baseline_values = concat(
    [yamlencode({ environment = var.environment })],
    var.baseline_values,
  )
}

resource "terraform_data" "install_order" {
  input = {
    stage0 = sort(local.stage0)
    stage1 = sort(local.stage1)
    stage2 = sort(local.stage2)
    stage3 = sort(local.stage3)
  }

  lifecycle {
    precondition {
      condition     = length(setsubtract(setunion(keys(var.enabled_addons), keys(var.addon_values)), keys(local.catalogue))) == 0
      error_message = "enabled_addons and addon_values name add-ons that charts/addons/versions.yaml does not list: ${join(", ", setsubtract(setunion(keys(var.enabled_addons), keys(var.addon_values)), keys(local.catalogue)))}."
    }
    precondition {
      condition     = length(setsubtract(keys(local.enabled), local.staged)) == 0
      error_message = "These add-ons cannot be installed: an add-on they depend on is disabled, or their dependency chain is deeper than 4 stages: ${join(", ", setsubtract(keys(local.enabled), local.staged))}."
    }
    precondition {
      condition     = !var.gatehouse_enabled || contains(keys(local.enabled), "cert-manager")
      error_message = "The Gatehouse webhook gets its serving certificate from cert-manager: enable cert-manager or disable gatehouse_enabled."
    }
  }
}

resource "kubernetes_namespace_v1" "this" {
  for_each = var.manage_namespaces ? local.namespaces : {}

  metadata {
    name = each.key
    labels = merge(var.namespace_labels, {
      "environment"                                = local.environment_label
      "gatehouse.dev/team"                         = "platform"
      "gatehouse.dev/platform-addon"               = "true"
      "pod-security.kubernetes.io/enforce"         = each.value
      "pod-security.kubernetes.io/enforce-version" = "latest"
      "pod-security.kubernetes.io/audit"           = "restricted"
      "pod-security.kubernetes.io/audit-version"   = "latest"
      "pod-security.kubernetes.io/warn"            = each.value
      "pod-security.kubernetes.io/warn-version"    = "latest"
    })
  }
}

resource "kubernetes_secret_v1" "bootstrap" {
  for_each = nonsensitive(toset(keys(var.bootstrap_secrets)))

  metadata {
    name      = var.bootstrap_secrets[each.key].name
    namespace = var.bootstrap_secrets[each.key].namespace
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }
  data = var.bootstrap_secrets[each.key].data

  depends_on = [kubernetes_namespace_v1.this]
}

resource "helm_release" "platform_baseline" {
  count = var.baseline_enabled ? 1 : 0

  name             = "platform-baseline"
  chart            = "${local.charts_dir}/platform-baseline"
  namespace        = var.baseline_namespace
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  cleanup_on_fail  = true
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history
  values = concat(local.baseline_values, [yamlencode({
    monitoring = {
      prometheusRules = { enabled = false }
      dashboards      = { enabled = false }
    }
  })])

  depends_on = [kubernetes_namespace_v1.this]
}

module "stage0" {
  source = "./modules/release-set"

  releases         = { for name in local.stage0 : name => local.releases[name] }
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history

  depends_on = [terraform_data.install_order, kubernetes_namespace_v1.this, kubernetes_secret_v1.bootstrap, helm_release.platform_baseline]
}

module "stage1" {
  source = "./modules/release-set"

  releases         = { for name in local.stage1 : name => local.releases[name] }
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history

  depends_on = [module.stage0]
}

module "stage2" {
  source = "./modules/release-set"

  releases         = { for name in local.stage2 : name => local.releases[name] }
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history

  depends_on = [module.stage1]
}

module "stage3" {
  source = "./modules/release-set"

  releases         = { for name in local.stage3 : name => local.releases[name] }
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history

  depends_on = [module.stage2]
}

# The SLO rules and dashboards of platform-baseline, once kube-prometheus-stack (stage 1) has
# installed the PrometheusRule CRD and the monitoring namespace.
resource "helm_release" "platform_monitoring" {
  count = var.baseline_enabled && contains(keys(local.enabled), "kube-prometheus-stack") ? 1 : 0

  name             = "platform-monitoring"
  chart            = "${local.charts_dir}/platform-baseline"
  namespace        = var.baseline_namespace
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  cleanup_on_fail  = true
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history
  values = concat(local.baseline_values, [yamlencode({
    namespacesEnabled = false
    rbac              = { enabled = false }
    priorityClasses   = { enabled = false }
  })])

  depends_on = [module.stage1, helm_release.platform_baseline]
}

# The Gatehouse admission webhook, from this repository's chart, once cert-manager (its serving
# certificate) and kube-prometheus-stack (its ServiceMonitor) are in place.
resource "helm_release" "gatehouse" {
  count = var.gatehouse_enabled ? 1 : 0

  name             = "gatehouse"
  chart            = "${local.charts_dir}/policy-webhook"
  namespace        = var.gatehouse_namespace
  create_namespace = !var.manage_namespaces
  atomic           = var.atomic
  cleanup_on_fail  = true
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history
  values           = var.gatehouse_values

  depends_on = [module.stage0, module.stage1, kubernetes_namespace_v1.this]
}
