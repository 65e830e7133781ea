resource "scaleway_object_bucket" "postgres_backups" {
  name          = "gatehouse-prod-backups-postgres"
  region        = "fr-par"
  force_destroy = false

  tags = {
    environment = "production"
    purpose     = "backups"
  }

  versioning {
    enabled = true
  }
}

# User uploads: not a backup or log bucket, versioning is the application's choice.
resource "scaleway_object_bucket" "uploads" {
  name   = "gatehouse-prod-data-uploads"
  region = "fr-par"

  tags = {
    environment = "production"
    purpose     = "data"
  }
}
