resource "scaleway_rdb_instance" "main" {
  name          = "prod-main"
  node_type     = "DB-PRO2-XS"
  engine        = "PostgreSQL-16"
  is_ha_cluster = true
  user_name     = "gatehouse_admin"
  password      = "Not-A-Real-Password-42"
}
