package gatehouse.kubernetes.disallow_nodeport

# NodePorts open a port on every node, outside the allow-listing done at the edge: Services of
# type NodePort are refused, and so is an explicit ports[].nodePort on a Service of any type.

violation contains {"msg": msg, "path": "/spec/type"} if {
	input.review.object.spec.type == "NodePort"
	not data.gatehouse.lib.kubernetes.deleting
	msg := sprintf(
		"Service %s is of type NodePort, which opens its ports on every node of the cluster, outside the allow-listing done at the load balancer and ingress: make it a ClusterIP Service and expose it through the ingress controller or a Gateway",
		[quoted(data.gatehouse.lib.kubernetes.name)],
	)
}

# nodePort 0 (or null) is the API's "allocate one if the type needs it": only a port number
# the manifest pins is reported.
violation contains {"msg": msg, "path": path} if {
	ports := input.review.object.spec.ports
	is_array(ports)
	some i, port in ports
	node_port := port.nodePort
	node_port != null
	node_port != 0
	not data.gatehouse.lib.kubernetes.deleting
	path := sprintf("/spec/ports/%d/nodePort", [i])
	msg := sprintf(
		"Service %s pins nodePort %v on %s: a fixed port open on every node of the cluster lets clients reach it around the allow-listing done at the edge; remove spec.ports[%d].nodePort",
		[quoted(data.gatehouse.lib.kubernetes.name), node_port, port_label(port), i],
	)
}

port_label(port) := sprintf("port %q", [port.name]) if {
	is_string(port.name)
	port.name != ""
} else := sprintf("port %v", [object.get(port, "port", "?")])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
