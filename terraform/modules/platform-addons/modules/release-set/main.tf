# A set of Helm releases with no ordering among them: the parent module chains sets with
# depends_on to install add-ons in the order their dependencies require.
resource "helm_release" "this" {
  for_each = var.releases

  name             = each.key
  repository       = each.value.repository
  chart            = each.value.chart
  version          = each.value.version
  namespace        = each.value.namespace
  create_namespace = var.create_namespace
  atomic           = var.atomic
  cleanup_on_fail  = true
  wait             = var.wait
  timeout          = var.timeout
  max_history      = var.max_history
  values           = each.value.values
}
