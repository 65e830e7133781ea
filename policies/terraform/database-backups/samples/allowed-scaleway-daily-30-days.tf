variable "db_admin_password" {
  description = "Administrator password (TF_VAR_db_admin_password, from the pipeline's secret store)."
  type        = string
  sensitive   = true
}

variable "backup_retention_days" {
  description = "Days an automated backup is kept."
  type        = number
  default     = 30
}

resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = var.db_admin_password

  disable_backup            = false
  backup_schedule_frequency = 24
  backup_schedule_retention = var.backup_retention_days
  backup_same_region        = false

  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}
