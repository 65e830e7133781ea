resource "aws_db_instance" "main" {
  identifier                  = "prod-main"
  engine                      = "postgres"
  instance_class              = "db.m6g.large"
  allocated_storage           = 100
  username                    = "gatehouse_admin"
  manage_master_user_password = true
  db_subnet_group_name        = "prod-data-private"
  vpc_security_group_ids      = ["sg-0a1b2c3d4e5f60718"]
  publicly_accessible         = false
}

resource "aws_db_instance" "replica" {
  identifier          = "prod-main-replica-1"
  replicate_source_db = aws_db_instance.main.identifier
  instance_class      = "db.m6g.large"
  publicly_accessible = false
}

resource "aws_rds_cluster_instance" "analytics" {
  count = 2

  identifier          = "prod-analytics-${count.index}"
  cluster_identifier  = "prod-analytics"
  instance_class      = "db.r6g.large"
  engine              = "aurora-postgresql"
  publicly_accessible = false
}
