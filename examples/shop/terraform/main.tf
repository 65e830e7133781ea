# The shop's database and buckets, through the platform's provider-neutral modules (here their
# AWS implementation; terraform/modules/scaleway/* take the same variables).

module "database" {
  source = "../../../terraform/modules/aws/database"

  name                  = "shop"
  environment           = "production"
  engine_version        = "16"
  instance_size         = "db.m7g.large"
  high_availability     = true
  read_replicas         = 1
  backup_retention_days = 30
  network_id            = "shop-database"
}

module "storage" {
  source = "../../../terraform/modules/aws/storage"

  name_prefix = "shop-euw3"
  environment = "production"

  buckets = {
    orders = {
      purpose                = "backups"
      retention_days         = 30
      archive_after_days     = 30
      archive_retention_days = 365
    }
  }
}
