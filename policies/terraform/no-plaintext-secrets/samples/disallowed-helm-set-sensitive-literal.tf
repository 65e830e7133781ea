resource "helm_release" "postgresql" {
  name       = "postgresql"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "postgresql"
  namespace  = "data"

  set_sensitive {
    name  = "auth.postgresPassword"
    value = "Not-A-Real-Password-42"
  }
}
