resource "scaleway_lb_backend" "web" {
  lb_id            = scaleway_lb.main.id
  name             = "web"
  forward_protocol = "tcp"
  forward_port     = 8080

  health_check_tcp {}
}
