# SSH open to the world on an inline rule, and a separate rule opening everything.
resource "aws_security_group" "bastion" {
  name_prefix = "gatehouse-production-bastion-"
  description = "Bastion"
  vpc_id      = "vpc-0a1b2c3d4e5f60718"

  ingress {
    description = "SSH"
    protocol    = "tcp"
    from_port   = 22
    to_port     = 22
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "debug_all" {
  security_group_id = aws_security_group.bastion.id
  type              = "ingress"
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  ipv6_cidr_blocks  = ["::/0"]
}
