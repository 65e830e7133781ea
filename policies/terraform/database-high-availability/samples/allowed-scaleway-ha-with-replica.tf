variable "db_admin_password" {
  description = "Administrator password, from the pipeline's secret store (TF_VAR_db_admin_password)."
  type        = string
  sensitive   = true
}

resource "scaleway_vpc_private_network" "data" {
  name = "prod-data"
  tags = ["environment=production"]
}

resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = var.db_admin_password
  tags          = ["environment=production"]

  encryption_at_rest        = true
  disable_backup            = false
  backup_schedule_frequency = 24
  backup_schedule_retention = 30

  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}

resource "scaleway_rdb_read_replica" "main" {
  instance_id = scaleway_rdb_instance.main.id
  same_zone   = false

  private_network {
    private_network_id = scaleway_vpc_private_network.data.id
    enable_ipam        = true
  }
}
