resource "scaleway_object_bucket" "postgres_backups" {
  name   = "gatehouse-prod-backups-postgres"
  region = "fr-par"

  tags = {
    environment = "production"
  }
}
