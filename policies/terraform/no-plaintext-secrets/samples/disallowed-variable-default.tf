# A default is committed with the code: the "secret" is in every clone.
variable "db_admin_password" {
  type      = string
  sensitive = true
  default   = "Not-A-Real-Password-42"
}

resource "scaleway_rdb_instance" "main" {
  name      = "prod-main"
  node_type = "DB-PRO2-XS"
  engine    = "PostgreSQL-16"
  user_name = "gatehouse_admin"
  password  = var.db_admin_password
}
