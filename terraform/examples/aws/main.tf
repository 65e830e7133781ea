# The AWS implementation of Gatehouse's `database` and `storage` modules, with an EKS node group
# and an internet-facing load balancer, as a production root module would use them. It doubles as
# the test bed: scripts/terraform-plan-fixtures validates and plans it (no AWS account needed) and
# commits the plan as tests/fixtures/terraform/plans/aws-example.plan.json, which Gatehouse's
# Terraform policies must pass.

locals {
  environment = "production"
  name        = "gatehouse-${local.environment}"
}

# The network layer's DB subnet group: the `network_id` of the database module on AWS.
resource "aws_db_subnet_group" "database" {
  name        = "${local.name}-database"
  description = "Isolated subnets of the ${local.name} database"
  subnet_ids  = var.database_subnet_ids
}

module "database" {
  source = "../../modules/aws/database"

  name           = local.name
  environment    = local.environment
  engine_version = "16"
  instance_size  = "db.m7g.large"

  # Primary Multi-AZ (writer and synchronous standby) plus one read replica, itself Multi-AZ.
  high_availability     = true
  read_replicas         = 1
  backup_retention_days = 30

  network_id    = aws_db_subnet_group.database.id
  allowed_cidrs = [var.vpc_cidr]

  # admin_password left null: RDS generates the password and keeps it in Secrets Manager.

  tags = { team = "platform" }
}

module "storage" {
  source = "../../modules/aws/storage"

  name_prefix = "${local.name}-euw3"
  environment = local.environment

  # Written out in full: the values the policies check do not depend on optional() defaults.
  buckets = {
    postgres = {
      purpose                = "backups"
      retention_days         = 30
      archive_after_days     = 30
      archive_retention_days = 365
    }
    audit = {
      purpose                = "logs"
      retention_days         = 30
      archive_after_days     = 30
      archive_retention_days = 365
    }
  }

  tags = { team = "platform" }
}

# The always-on application tier: two nodes at least, in three availability zones.
resource "aws_eks_node_group" "apps" {
  cluster_name    = var.cluster_name
  node_group_name = "${local.name}-apps"
  node_role_arn   = var.node_role_arn
  subnet_ids      = var.private_subnet_ids

  ami_type       = "AL2023_x86_64_STANDARD"
  capacity_type  = "ON_DEMAND"
  instance_types = ["m7i.large"]
  disk_size      = 50

  scaling_config {
    min_size     = 2
    desired_size = 3
    max_size     = 6
  }

  update_config {
    max_unavailable = 1
  }

  # EKS replaces a node that stays NotReady (provider 5.83 or newer).
  node_repair_config {
    enabled = true
  }

  labels = {
    "gatehouse.dev/pool" = "apps"
  }

  tags = { team = "platform" }

  lifecycle {
    # The cluster autoscaler owns the desired size between min_size and max_size.
    ignore_changes = [scaling_config[0].desired_size]
  }
}

# Internet-facing application load balancer: HTTPS only from the world, forwarding to the
# cluster's ingress gateway inside the VPC.
resource "aws_security_group" "lb" {
  name_prefix = "${local.name}-lb-"
  description = "Internet-facing load balancer of ${local.name}: HTTPS only"
  vpc_id      = var.vpc_id

  revoke_rules_on_delete = true

  tags = { Name = "${local.name}-lb" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_https_ipv4" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS from the internet (IPv4)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "lb_https_ipv6" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS from the internet (IPv6)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_egress_rule" "lb_to_gateway" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS to the ingress gateway pods"
  ip_protocol       = "tcp"
  from_port         = 8443
  to_port           = 8443
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_lb" "public" {
  name               = "${local.name}-public"
  load_balancer_type = "application"
  internal           = false
  ip_address_type    = "dualstack"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.lb.id]

  drop_invalid_header_fields = true
  enable_deletion_protection = true

  tags = { team = "platform" }
}

resource "aws_lb_target_group" "gateway" {
  name        = "${local.name}-gateway"
  vpc_id      = var.vpc_id
  target_type = "ip"
  protocol    = "HTTPS"
  port        = 8443

  deregistration_delay = 30

  health_check {
    protocol            = "HTTPS"
    path                = "/healthz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { team = "platform" }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.public.arn
  protocol          = "HTTPS"
  port              = 443
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gateway.arn
  }
}
