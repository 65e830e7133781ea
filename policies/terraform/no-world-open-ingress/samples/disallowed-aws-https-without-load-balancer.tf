# HTTPS from anywhere straight to the nodes: no load balancer uses this group.
resource "aws_security_group" "nodes_public" {
  name_prefix = "gatehouse-production-nodes-"
  description = "Nodes reachable from the internet"
  vpc_id      = "vpc-0a1b2c3d4e5f60718"

  ingress {
    description = "HTTPS from the internet"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
}
