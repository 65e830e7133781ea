resource "scaleway_vpc" "this" {
  name           = var.name
  region         = var.region
  enable_routing = true
  tags           = var.tags
}

resource "scaleway_vpc_private_network" "this" {
  name   = "${var.name}-private"
  vpc_id = scaleway_vpc.this.id
  region = var.region
  tags   = var.tags

  ipv4_subnet {
    subnet = var.ipv4_subnet
  }
}

# The nodes run without public IPs (public_ip_disabled on every pool): their only way out is
# this gateway, which masquerades their traffic behind one flexible IP that can be allow-listed.
resource "scaleway_vpc_public_gateway_ip" "this" {
  zone = var.zone
  tags = var.tags
}

resource "scaleway_vpc_public_gateway" "this" {
  name            = "${var.name}-egress"
  type            = var.public_gateway_type
  zone            = var.zone
  ip_id           = scaleway_vpc_public_gateway_ip.this.id
  bastion_enabled = false
  tags            = var.tags
}

resource "scaleway_vpc_gateway_network" "this" {
  gateway_id         = scaleway_vpc_public_gateway.this.id
  private_network_id = scaleway_vpc_private_network.this.id
  enable_masquerade  = true
  zone               = var.zone

  ipam_config {
    push_default_route = true
  }
}
