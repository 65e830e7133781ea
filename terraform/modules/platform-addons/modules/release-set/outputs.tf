output "releases" {
  description = "The releases, keyed by name: chart, version, namespace and status."
  value = {
    for name, release in helm_release.this : name => {
      chart     = release.chart
      version   = release.version
      namespace = release.namespace
      status    = release.status
    }
  }
}
