resource "aws_lb_target_group" "api" {
  name     = "api"
  port     = 8080
  protocol = "TCP"
  vpc_id   = "vpc-0a1b2c3d"

  health_check {
    protocol = "TCP"
  }
}
