# A writer alone: Aurora's storage is replicated, but there is no instance to fail over to.
resource "aws_rds_cluster" "main" {
  cluster_identifier          = "prod-main"
  engine                      = "aurora-postgresql"
  master_username             = "gatehouse_admin"
  manage_master_user_password = true
  storage_encrypted           = true
  backup_retention_period     = 30
}

resource "aws_rds_cluster_instance" "writer" {
  identifier         = "prod-main-writer"
  cluster_identifier = aws_rds_cluster.main.id
  instance_class     = "db.r6g.large"
  engine             = aws_rds_cluster.main.engine
}
