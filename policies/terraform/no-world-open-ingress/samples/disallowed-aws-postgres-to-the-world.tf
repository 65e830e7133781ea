resource "aws_vpc_security_group_ingress_rule" "postgresql" {
  security_group_id = "sg-0123456789abcdef0"
  description       = "PostgreSQL for the analytics vendor"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "0.0.0.0/0"
}
