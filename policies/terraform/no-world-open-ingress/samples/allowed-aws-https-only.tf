# The internet-facing load balancer: HTTPS from anywhere, nothing else.
resource "aws_security_group" "lb" {
  name_prefix = "gatehouse-production-lb-"
  description = "Internet-facing load balancer: HTTPS only"
  vpc_id      = var.vpc_id

  ingress {
    description      = "HTTPS from the internet"
    protocol         = "tcp"
    from_port        = 443
    to_port          = 443
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  egress {
    description = "To the ingress gateway pods"
    protocol    = "tcp"
    from_port   = 8443
    to_port     = 8443
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_lb" "public" {
  name               = "gatehouse-production"
  load_balancer_type = "application"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.lb.id]
}

# PostgreSQL from the VPC only.
resource "aws_security_group" "database" {
  name_prefix = "gatehouse-production-db-"
  description = "PostgreSQL clients"
  vpc_id      = var.vpc_id

  ingress {
    description = "PostgreSQL from the VPC"
    protocol    = "tcp"
    from_port   = 5432
    to_port     = 5432
    cidr_blocks = [var.vpc_cidr]
  }
}

# The ingress gateway's pods receive the load balancer's traffic from inside the VPC.
resource "aws_vpc_security_group_ingress_rule" "nodes_gateway" {
  security_group_id = var.node_security_group_id
  description       = "Ingress gateway from the load balancer subnets"
  ip_protocol       = "tcp"
  from_port         = 8443
  to_port           = 8443
  cidr_ipv4         = var.vpc_cidr
}

# Prometheus in the monitoring VPC scrapes the node exporters.
resource "aws_security_group_rule" "nodes_metrics" {
  security_group_id = var.node_security_group_id
  description       = "Node exporter from the monitoring VPC"
  type              = "ingress"
  protocol          = "tcp"
  from_port         = 9100
  to_port           = 9100
  cidr_blocks       = ["10.99.0.0/16"]
}

variable "vpc_id" {
  type    = string
  default = "vpc-0a1b2c3d4e5f60718"
}

variable "vpc_cidr" {
  type    = string
  default = "10.20.0.0/16"
}

variable "node_security_group_id" {
  type    = string
  default = "sg-0c1d2e3f4a5b6c7d8"
}
