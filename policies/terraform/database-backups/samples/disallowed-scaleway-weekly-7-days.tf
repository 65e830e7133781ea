resource "scaleway_rdb_instance" "main" {
  name      = "prod-main"
  node_type = "DB-PRO2-XS"
  engine    = "PostgreSQL-16"
  user_name = "gatehouse_admin"
  password  = var.db_admin_password

  backup_schedule_frequency = 168
  backup_schedule_retention = 7
}
