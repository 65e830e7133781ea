resource "scaleway_rdb_instance" "main" {
  name               = "prod-main"
  node_type          = "DB-PRO2-XS"
  engine             = "PostgreSQL-16"
  is_ha_cluster      = true
  user_name          = "gatehouse_admin"
  password           = var.db_admin_password
  encryption_at_rest = true

  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}
