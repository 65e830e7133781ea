package gatehouse.kubernetes.require_graceful_termination

# Serving workloads (Deployment, StatefulSet, DaemonSet) drain connections on shutdown: every
# container that declares ports has a preStop hook, and the grace period is long enough for the
# hook and the application's own shutdown.

pod_spec := spec if {
	not data.gatehouse.lib.kubernetes.deleting
	spec := input.review.object.spec.template.spec
	is_object(spec)
}

# Regular containers that declare at least one port, by index.
serving[i] := container if {
	containers := pod_spec.containers
	is_array(containers)
	some i, container in containers
	ports := container.ports
	is_array(ports)
	count(ports) > 0
}

# The handlers the kubelet runs as a hook (tcpSocket is accepted by the API but not run).
hook_handlers := ["exec", "sleep", "httpGet"]

has_pre_stop(container) if {
	some handler in hook_handlers
	is_object(container.lifecycle.preStop[handler])
}

# terminationGracePeriodSeconds as the kubelet applies it: unset or null is 30.
grace_period := g if {
	g := pod_spec.terminationGracePeriodSeconds
	g != null
} else := 30

violation contains {"msg": msg, "path": path} if {
	some i, container in serving
	not has_pre_stop(container)
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path("containers", i), "lifecycle/preStop"])
	msg := sprintf("%s serves on %s but has no lifecycle.preStop hook: it gets SIGTERM while Services and load balancers still send it requests, which then fail. Add a preStop hook that waits for the pod to leave rotation, for example sleep: {seconds: 10}", [
		data.gatehouse.lib.kubernetes.container_label("containers", container),
		port_text(container.ports),
	])
}

violation contains {"msg": msg, "path": "/spec/template/spec/terminationGracePeriodSeconds"} if {
	count(serving) > 0
	minimum := input.parameters.minGracePeriodSeconds
	is_number(minimum)
	grace := grace_period
	is_number(grace)
	grace < minimum
	msg := sprintf("%s %s %s, below the minimum of %v seconds its serving containers get to drain connections and shut down before SIGKILL", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		grace_text,
		minimum,
	])
}

# A preStop sleep that lasts the whole grace period leaves no time to handle SIGTERM.
violation contains {"msg": msg, "path": path} if {
	some i, container in serving
	seconds := container.lifecycle.preStop.sleep.seconds
	is_number(seconds)
	grace := grace_period
	is_number(grace)
	seconds >= grace
	path := concat("/", [data.gatehouse.lib.kubernetes.container_path("containers", i), "lifecycle/preStop/sleep/seconds"])
	msg := sprintf("%s sleeps %v seconds in its preStop hook, which uses up the pod's whole terminationGracePeriodSeconds of %v: it is killed without ever handling SIGTERM. Sleep for less, or raise terminationGracePeriodSeconds above the sleep plus the shutdown time", [
		data.gatehouse.lib.kubernetes.container_label("containers", container),
		seconds,
		grace,
	])
}

# Message fragments, computed only for a violation.

port_text(ports) := sprintf("port %s", [port_number(ports[0])]) if {
	count(ports) == 1
} else := sprintf("ports %s", [concat(", ", [port_number(port) | some port in ports])])

port_number(port) := sprintf("%v", [port.containerPort]) if {
	is_object(port)
	port.containerPort != null
} else := "?"

grace_text := sprintf("sets terminationGracePeriodSeconds to %v", [pod_spec.terminationGracePeriodSeconds]) if {
	pod_spec.terminationGracePeriodSeconds != null
} else := "leaves terminationGracePeriodSeconds unset, so 30"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
