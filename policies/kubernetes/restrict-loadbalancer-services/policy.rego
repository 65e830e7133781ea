package gatehouse.kubernetes.restrict_loadbalancer_services

# Services of type LoadBalancer only in the namespaces of parameter allowedNamespaces, and with
# the Scaleway cloud controller's health-check type annotation naming a type of parameter
# healthCheckTypes. Each failure is reported on its own.

annotation := "service.beta.kubernetes.io/scw-loadbalancer-health-check-type"

annotation_path := "/metadata/annotations/service.beta.kubernetes.io~1scw-loadbalancer-health-check-type"

load_balancer if {
	input.review.object.spec.type == "LoadBalancer"
	not data.gatehouse.lib.kubernetes.deleting
}

# A Service with a loadBalancerClass is left by the cloud controller to another implementation.
scaleway_managed if not load_balancer_class

load_balancer_class if {
	class := input.review.object.spec.loadBalancerClass
	class != null
	class != ""
}

namespace_allowed if {
	allowed := input.parameters.allowedNamespaces
	is_array(allowed)
	data.gatehouse.lib.kubernetes.namespace in allowed
}

# The annotation's value; a non-string value counts as none (the API server refuses it anyway).
value := v if {
	annotations := input.review.object.metadata.annotations
	is_object(annotations)
	v := annotations[annotation]
	is_string(v)
}

# The annotation read as the cloud controller does: segments separated by ";", each either
# "<ports>:<type>" or a bare "<type>", the default for the ports no other segment names.
segments := [s |
	some raw in split(value, ";")
	s := trim_space(raw)
	s != ""
]

# The types the annotation names, and segments with more than one ":" (named as they are).
named_types contains t if {
	some s in segments
	not contains(s, ":")
	t := s
}

named_types contains t if {
	some s in segments
	parts := split(s, ":")
	count(parts) == 2
	t := trim_space(parts[1])
}

named_types contains s if some s in malformed

malformed contains s if {
	some s in segments
	count(split(s, ":")) > 2
}

wrong_types contains t if {
	some t in named_types
	not type_allowed(t)
}

type_allowed(t) if {
	allowed := input.parameters.healthCheckTypes
	is_array(allowed)
	t in allowed
}

has_default if {
	some s in segments
	not contains(s, ":")
}

# Ports of the Service that no segment gives a type to, when there is no default segment (a
# malformed segment already fails the whole annotation).
uncovered_ports contains p if {
	not has_default
	count(malformed) == 0
	ports := input.review.object.spec.ports
	is_array(ports)
	some port in ports
	p := port.port
	is_number(p)
	not port_covered(p)
}

port_covered(p) if {
	some s in segments
	parts := split(s, ":")
	count(parts) == 2
	covers(trim_space(parts[0]), p)
}

# The controller's isPortInRange: "*" or a true boolean is every port, else a list of ports.
covers(spec, _) if spec in {"*", "true", "True", "TRUE", "t", "T"}

covers(spec, p) if {
	some listed in split(replace(spec, " ", ""), ",")
	listed == format_int(p, 10)
}

service_text := sprintf("Service %s of type LoadBalancer", [quoted(data.gatehouse.lib.kubernetes.name)])

violation contains {"msg": msg, "path": "/metadata/namespace"} if {
	load_balancer
	not namespace_allowed
	msg := sprintf(
		"%s is in namespace %q, where load balancers are not allowed (%s): publish it through the ingress controller or a Gateway and make it a ClusterIP Service",
		[service_text, data.gatehouse.lib.kubernetes.namespace, listing("allowed namespaces", input.parameters.allowedNamespaces)],
	)
}

violation contains {"msg": msg, "path": annotation_path} if {
	load_balancer
	scaleway_managed
	not value
	msg := sprintf(
		"%s sets no annotation %s, so the Scaleway load balancer only checks that a node accepts TCP connections: set it to an application-level check (%s) with the matching health-check URI annotation",
		[service_text, annotation, listing("allowed types", input.parameters.healthCheckTypes)],
	)
}

violation contains {"msg": msg, "path": annotation_path} if {
	load_balancer
	scaleway_managed
	count(wrong_types) > 0
	names := concat(", ", [sprintf("%q", [t]) | some t in wrong_types])
	verb := {true: "types %s are", false: "type %s is"}[count(wrong_types) > 1]
	msg := sprintf(
		"%s sets %s to %q: health-check %s not allowed (%s)",
		[service_text, annotation, value, sprintf(verb, [names]), listing("allowed types", input.parameters.healthCheckTypes)],
	)
}

violation contains {"msg": msg, "path": annotation_path} if {
	load_balancer
	scaleway_managed
	value
	count(uncovered_ports) > 0
	ports := concat(", ", [format_int(p, 10) | some p in uncovered_ports])
	noun := {true: "ports", false: "port"}[count(uncovered_ports) > 1]
	msg := sprintf(
		"%s sets %s to %q, which gives no health-check type to %s %s: the Scaleway cloud controller refuses to configure the load balancer; add a default type or an entry for %s",
		[service_text, annotation, value, noun, ports, ports],
	)
}

# "allowed namespaces: a, b" for a message; a list of the wrong shape reads as none.
listing(what, items) := sprintf("%s: %s", [what, concat(", ", [sprintf("%v", [x]) | some x in items])]) if {
	is_array(items)
	count(items) > 0
} else := sprintf("no %s are configured", [what])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
