# Backups are on, but on Scaleway's default schedule, which nothing here shows.
resource "scaleway_rdb_instance" "main" {
  name      = "prod-main"
  node_type = "DB-PRO2-XS"
  engine    = "PostgreSQL-16"
  user_name = "gatehouse_admin"
  password  = var.db_admin_password
}
