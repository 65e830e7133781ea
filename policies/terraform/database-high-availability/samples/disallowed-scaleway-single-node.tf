# A single node and no replica: one copy of the data, no failover.
resource "scaleway_rdb_instance" "main" {
  name      = "staging-main"
  node_type = "DB-DEV-S"
  engine    = "PostgreSQL-16"
  user_name = "gatehouse_admin"
  password  = var.db_admin_password

  private_network {
    pn_id       = scaleway_vpc_private_network.data.id
    enable_ipam = true
  }
}
