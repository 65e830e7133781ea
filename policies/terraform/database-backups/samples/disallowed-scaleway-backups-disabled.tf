resource "scaleway_rdb_instance" "main" {
  name           = "staging-main"
  node_type      = "DB-DEV-S"
  engine         = "PostgreSQL-16"
  user_name      = "gatehouse_admin"
  password       = var.db_admin_password
  disable_backup = true
}
