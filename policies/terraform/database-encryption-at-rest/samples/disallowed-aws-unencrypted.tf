resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  storage_encrypted           = false
}

resource "aws_rds_cluster" "analytics" {
  cluster_identifier          = "prod-analytics"
  engine                      = "aurora-postgresql"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
}
