# Backups deleted after a week, never archived.
resource "scaleway_object_bucket" "postgres_backups" {
  name   = "gatehouse-prod-backups-postgres"
  region = "fr-par"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    id      = "cleanup"
    enabled = true

    expiration {
      days = 7
    }
  }
}
