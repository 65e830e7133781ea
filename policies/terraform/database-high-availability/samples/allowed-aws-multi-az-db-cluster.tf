resource "aws_rds_cluster" "orders" {
  cluster_identifier          = "prod-orders"
  engine                      = "postgres"
  engine_version              = "16.4"
  db_cluster_instance_class   = "db.m6gd.large"
  storage_type                = "io2"
  allocated_storage           = 100
  iops                        = 3000
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data"
  storage_encrypted           = true
  backup_retention_period     = 30
}
