# Reachable from the Internet: a load balancer endpoint and no Private Network.
resource "scaleway_rdb_instance" "main" {
  name      = "prod-main"
  node_type = "DB-PRO2-XS"
  engine    = "PostgreSQL-16"
  user_name = "gatehouse_admin"
  password  = var.db_admin_password

  load_balancer {}
}

resource "scaleway_rdb_read_replica" "main" {
  instance_id = scaleway_rdb_instance.main.id

  direct_access {}
}
