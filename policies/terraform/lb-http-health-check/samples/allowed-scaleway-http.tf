resource "scaleway_lb_backend" "web" {
  lb_id            = scaleway_lb.main.id
  name             = "web"
  forward_protocol = "http"
  forward_port     = 8080

  health_check_http {
    uri    = "/healthz"
    method = "GET"
    code   = 200
  }
}

resource "aws_lb_target_group" "api" {
  name     = "api"
  port     = 8080
  protocol = "HTTP"
  vpc_id   = "vpc-0a1b2c3d"

  health_check {
    protocol = "HTTPS"
    path     = "/healthz"
    matcher  = "200"
  }
}
