resource "aws_rds_cluster" "main" {
  cluster_identifier          = "prod-main"
  engine                      = "aurora-postgresql"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  backup_retention_period     = 7
}
