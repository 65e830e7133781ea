package gatehouse.kubernetes.require_metrics_scraping

# A Service port named as a metrics port is scraped by a ServiceMonitor or a PodMonitor
# (monitoring.coreos.com/v1) of the inventory, looked up in the Service's namespace and in the
# configured monitoring namespaces only.

# A DELETE, and an update to a Service already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The metrics ports of the Service, by index in spec.ports.
metrics_ports[i] := port if {
	checked
	not input.review.object.spec.type == "ExternalName"
	ports := input.review.object.spec.ports
	is_array(ports)
	names := input.parameters.metricsPortNames
	is_array(names)
	some i, port in ports
	is_string(port.name)
	port.name in names
}

service_namespace := data.gatehouse.lib.kubernetes.namespace

# Where monitors are looked up: the Service's namespace and the monitoring namespaces.
monitor_namespaces contains service_namespace

monitor_namespaces contains ns if {
	namespaces := input.parameters.monitorNamespaces
	is_array(namespaces)
	some ns in namespaces
	is_string(ns)
}

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)

# The monitors of `kind` that watch the Service's namespace. Only looked up for a Service that
# has a metrics port.
monitors(kind) := [monitor |
	some ns in monitor_namespaces
	all_of_kind := data.inventory.namespace[ns]["monitoring.coreos.com/v1"][kind]
	is_object(all_of_kind)
	some monitor in all_of_kind
	watches(monitor.spec, ns)
]

# prometheus-operator's NamespaceSelector: any: true watches every namespace; a non-empty
# matchNames the namespaces it lists (and only those); otherwise the monitor's own namespace.
watches(spec, _) if spec.namespaceSelector.any == true

watches(spec, _) if {
	names := spec.namespaceSelector.matchNames
	is_array(names)
	service_namespace in names
}

watches(spec, ns) if {
	ns == service_namespace
	not spec.namespaceSelector.any == true
	not lists_names(spec)
}

lists_names(spec) if {
	names := spec.namespaceSelector.matchNames
	is_array(names)
	count(names) > 0
}

# The port names the ServiceMonitors that select the Service scrape.
service_monitor_ports contains endpoint.port if {
	count(metrics_ports) > 0
	labels := object_or_empty(input.review.object.metadata.labels)
	some monitor in monitors("ServiceMonitor")
	data.gatehouse.lib.kubernetes.selector_matches(monitor.spec.selector, labels)
	endpoints := monitor.spec.endpoints
	is_array(endpoints)
	some endpoint in endpoints
	is_string(endpoint.port)
}

# The endpoints of the PodMonitors that select the Service's pods.
pod_monitor_endpoints contains endpoint if {
	count(metrics_ports) > 0
	pod_labels := object_or_empty(input.review.object.spec.selector)
	some monitor in monitors("PodMonitor")
	data.gatehouse.lib.kubernetes.selector_matches(monitor.spec.selector, pod_labels)
	endpoints := monitor.spec.podMetricsEndpoints
	is_array(endpoints)
	some endpoint in endpoints
	is_object(endpoint)
}

scraped(port) if port.name in service_monitor_ports

scraped(port) if {
	some endpoint in pod_monitor_endpoints
	pod_endpoint_on(endpoint, port)
}

# A PodMonitor endpoint names the container port: the Service port's name (the usual
# convention) or its named targetPort, or its number.
pod_endpoint_on(endpoint, port) if endpoint.port == port.name

pod_endpoint_on(endpoint, port) if {
	is_string(port.targetPort)
	endpoint.port == port.targetPort
}

pod_endpoint_on(endpoint, port) if {
	is_number(port.targetPort)
	endpoint.portNumber == port.targetPort
}

pod_endpoint_on(endpoint, port) if {
	object.get(port, "targetPort", null) == null
	is_number(port.port)
	endpoint.portNumber == port.port
}

violation contains {"msg": msg, "path": sprintf("/spec/ports/%d/name", [i])} if {
	some i, port in metrics_ports
	not scraped(port)
	msg := sprintf(
		"Service %s exposes metrics on port %q, but no ServiceMonitor or PodMonitor (monitoring.coreos.com/v1) scrapes it: add a ServiceMonitor in namespace %q whose selector matches the Service's labels, with an endpoint on port %q%s",
		[quoted(data.gatehouse.lib.kubernetes.name), port.name, service_namespace, port.name, central_hint(input.parameters.monitorNamespaces)],
	)
}

# Message fragment: a function, so that it is computed only for a violation (regorus evaluates
# every complete rule of the package).
central_hint(namespaces) := sprintf(", or list the namespace in spec.namespaceSelector.matchNames of a ServiceMonitor in %s", [concat(" or ", names)]) if {
	is_array(namespaces)
	names := [sprintf("%q", [ns]) | some ns in namespaces; is_string(ns); ns != service_namespace]
	count(names) > 0
} else := ""

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
