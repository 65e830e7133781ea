resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  publicly_accessible         = true
}

# Left out on a cluster instance, AWS decides from the subnet group.
resource "aws_rds_cluster_instance" "analytics" {
  identifier         = "prod-analytics-0"
  cluster_identifier = "prod-analytics"
  instance_class     = "db.r6g.large"
  engine             = "aurora-postgresql"
}
