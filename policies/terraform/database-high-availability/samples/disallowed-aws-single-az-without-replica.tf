resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  engine_version              = "16"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  storage_encrypted           = true
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data"
  multi_az                    = false
  backup_retention_period     = 30
}
