variable "name" {
  description = "Name of the VPC; the Private Network and the Public Gateway are named after it (e.g. gatehouse-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, at most 48 characters."
  }
}

variable "region" {
  description = "Scaleway region of the VPC and the Private Network."
  type        = string
  default     = "fr-par"

  validation {
    condition     = contains(["fr-par", "nl-ams", "pl-waw"], var.region)
    error_message = "region must be one of fr-par, nl-ams, pl-waw."
  }
}

variable "zone" {
  description = "Availability zone of the Public Gateway (a zonal resource), in region."
  type        = string
  default     = "fr-par-1"

  validation {
    condition     = can(regex("^(fr-par|nl-ams|pl-waw)-[1-3]$", var.zone))
    error_message = "zone must be a Scaleway zone such as fr-par-1."
  }
}

variable "ipv4_subnet" {
  description = "IPv4 CIDR of the Private Network (nodes, database endpoints). It must not overlap the Kapsule pod (100.64.0.0/15) and service (10.32.0.0/20) ranges."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.ipv4_subnet)) && try(tonumber(split("/", var.ipv4_subnet)[1]) <= 24, false)
    error_message = "ipv4_subnet must be an IPv4 CIDR of at least a /24 (e.g. 172.16.0.0/22)."
  }

  validation {
    condition     = !startswith(var.ipv4_subnet, "100.64.") && !startswith(var.ipv4_subnet, "100.65.") && !startswith(var.ipv4_subnet, "10.32.")
    error_message = "ipv4_subnet overlaps the Kapsule pod (100.64.0.0/15) or service (10.32.0.0/20) range."
  }
}

variable "public_gateway_type" {
  description = "Commercial type of the Public Gateway that gives the nodes (which have no public IP) their egress."
  type        = string
  default     = "VPC-GW-S"

  validation {
    condition     = can(regex("^VPC-GW-(S|M|L|XL)$", var.public_gateway_type))
    error_message = "public_gateway_type must be VPC-GW-S, VPC-GW-M, VPC-GW-L or VPC-GW-XL."
  }
}

variable "tags" {
  description = "Tags of every resource, as Scaleway \"key=value\" strings; include \"environment=<name>\"."
  type        = list(string)
  default     = []
}
