output "addons" {
  description = "The add-on releases installed, keyed by name: chart, version, namespace and status."
  value = merge(
    module.stage0.releases,
    module.stage1.releases,
    module.stage2.releases,
    module.stage3.releases,
  )
}

output "install_stages" {
  description = "The add-ons of each install stage, in order (an add-on's dependencies are in earlier stages)."
  value       = terraform_data.install_order.output
}

output "namespaces" {
  description = "The namespaces of the add-ons, Gatehouse and the baseline release, with their Pod Security enforce level."
  value       = local.namespaces
}

output "privileged_namespaces" {
  description = "Namespaces that run host agents at the privileged Pod Security level: list them in the exemptNamespaces of the Gatehouse policies namespace-pod-security-restricted and pod-security-restricted."
  value       = sort([for name, level in local.namespaces : name if level == "privileged"])
}

output "gatehouse_release" {
  description = "The Gatehouse webhook release (name, namespace, version, status), or null when disabled."
  value = var.gatehouse_enabled ? {
    name      = helm_release.gatehouse[0].name
    namespace = helm_release.gatehouse[0].namespace
    version   = helm_release.gatehouse[0].version
    status    = helm_release.gatehouse[0].status
  } : null
}

output "baseline_releases" {
  description = "The platform-baseline releases (platform-baseline, platform-monitoring) and their status."
  value = merge(
    { for r in helm_release.platform_baseline : r.name => r.status },
    { for r in helm_release.platform_monitoring : r.name => r.status },
  )
}
