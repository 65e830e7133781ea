package gatehouse.kubernetes.require_httproute_tls

# An HTTPRoute attaches only to Gateway listeners that terminate TLS (HTTPS or TLS). The
# Gateways come from data.inventory, looked up in the namespace each parentRef names (the
# route's by default), as gateway.networking.k8s.io/v1 then v1beta1.

gateway_group := "gateway.networking.k8s.io"

secure_protocols := {"HTTPS", "TLS"}

route_namespace := data.gatehouse.lib.kubernetes.namespace

# The spec.parentRefs entries that name a Gateway, by index. Every rule below starts here, so a
# DELETE or a redirect-only route stops the evaluation at once.
gateway_refs[i] := ref if {
	not data.gatehouse.lib.kubernetes.deleting
	not redirect_only
	refs := input.review.object.spec.parentRefs
	is_array(refs)
	some i, ref in refs
	is_object(ref)
	or_default(ref, "group", gateway_group) == gateway_group
	or_default(ref, "kind", "Gateway") == "Gateway"
	is_string(ref.name)
}

# A field's value, or `d` when it is absent or null.
or_default(obj, field, d) := v if {
	v := obj[field]
	v != null
} else := d

has_value(obj, field) if obj[field] != null

ref_namespace(ref) := ns if {
	ns := ref.namespace
	is_string(ns)
	ns != ""
} else := route_namespace

gateway(ns, name) := g if {
	g := data.inventory.namespace[ns]["gateway.networking.k8s.io/v1"].Gateway[name]
	is_object(g)
} else := g if {
	g := data.inventory.namespace[ns]["gateway.networking.k8s.io/v1beta1"].Gateway[name]
	is_object(g)
}

listeners(g) := l if {
	l := g.spec.listeners
	is_array(l)
} else := []

# Every rule redirects to https: the route answers nothing but "go to HTTPS", as the redirect
# route of an HTTP listener does.
redirect_only if {
	rules := input.review.object.spec.rules
	is_array(rules)
	count(rules) > 0
	every rule in rules {
		https_redirect(rule)
	}
}

https_redirect(rule) if {
	filters := rule.filters
	is_array(filters)
	some f in filters
	is_object(f)
	f.type == "RequestRedirect"
	f.requestRedirect.scheme == "https"
}

# The listener is one the parentRef selects: its sectionName and port, when set.
selected(listener, ref) if {
	section_ok(listener, ref)
	port_ok(listener, ref)
}

section_ok(_, ref) if not has_value(ref, "sectionName")

section_ok(listener, ref) if listener.name == ref.sectionName

port_ok(_, ref) if not has_value(ref, "port")

port_ok(listener, ref) if listener.port == ref.port

# The listener's allowedRoutes take an HTTPRoute of the route's namespace.
accepts(listener, gateway_ns) if {
	namespaces_accept(listener, gateway_ns)
	kinds_accept(listener)
}

from(listener) := f if {
	f := listener.allowedRoutes.namespaces.from
	is_string(f)
} else := "Same"

namespaces_accept(listener, _) if from(listener) == "All"

namespaces_accept(listener, gateway_ns) if {
	from(listener) == "Same"
	gateway_ns == route_namespace
}

# Without the route's Namespace in the inventory the selector cannot be evaluated: assume it
# matches, so that a listener the route may reach is still checked.
namespaces_accept(listener, _) if {
	from(listener) == "Selector"
	not route_namespace_labels
}

namespaces_accept(listener, _) if {
	from(listener) == "Selector"
	data.gatehouse.lib.kubernetes.selector_matches(listener.allowedRoutes.namespaces.selector, route_namespace_labels)
}

# A value the API does not know: assume the listener takes the route.
namespaces_accept(listener, _) if not from(listener) in {"All", "Same", "Selector", "None"}

# The labels of the route's Namespace, with the name label the API server sets on every one.
route_namespace_labels := object.union(labels, {"kubernetes.io/metadata.name": route_namespace}) if {
	ns := data.inventory.cluster.v1.Namespace[route_namespace]
	is_object(ns)
	labels := object_or_empty(object.get(ns, ["metadata", "labels"], {}))
}

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)

explicit_kinds(listener) if {
	kinds := listener.allowedRoutes.kinds
	is_array(kinds)
	count(kinds) > 0
}

kinds_accept(listener) if {
	explicit_kinds(listener)
	some k in listener.allowedRoutes.kinds
	is_object(k)
	or_default(k, "group", gateway_group) == gateway_group
	k.kind == "HTTPRoute"
}

# Without kinds, a listener takes the route kinds of its protocol: HTTPRoute for HTTP(S).
kinds_accept(listener) if {
	not explicit_kinds(listener)
	listener.protocol in {"HTTP", "HTTPS"}
}

has_listener(g, section) if {
	some listener in listeners(g)
	listener.name == section
}

route_text := sprintf("HTTPRoute %s", [quoted(data.gatehouse.lib.kubernetes.name)])

gateway_text(ns, name) := sprintf("Gateway %q", [concat("/", [ns, name])])

# A listener the route attaches to serves it without TLS.
violation contains {"msg": msg, "path": path} if {
	some i, ref in gateway_refs
	gateway_ns := ref_namespace(ref)
	g := gateway(gateway_ns, ref.name)
	some listener in listeners(g)
	is_object(listener)
	selected(listener, ref)
	accepts(listener, gateway_ns)
	not listener.protocol in secure_protocols
	path := sprintf("/spec/parentRefs/%d", [i])
	msg := sprintf(
		"%s attaches through spec.parentRefs[%d] to listener %s (protocol %v, port %v) of %s, which does not terminate TLS: the route is served over plain HTTP; set the parentRef's sectionName to an HTTPS listener",
		[
			route_text, i, quoted(object.get(listener, "name", "")),
			object.get(listener, "protocol", "unset"), object.get(listener, "port", "unset"),
			gateway_text(gateway_ns, ref.name),
		],
	)
}

# The sectionName names no listener of the Gateway.
violation contains {"msg": msg, "path": path} if {
	some i, ref in gateway_refs
	section := ref.sectionName
	is_string(section)
	gateway_ns := ref_namespace(ref)
	g := gateway(gateway_ns, ref.name)
	not has_listener(g, section)
	path := sprintf("/spec/parentRefs/%d/sectionName", [i])
	msg := sprintf(
		"%s attaches through spec.parentRefs[%d] to listener %q, which %s does not have: whether it terminates TLS cannot be verified; name one of the Gateway's HTTPS listeners",
		[route_text, i, section, gateway_text(gateway_ns, ref.name)],
	)
}

# The Gateway is not in the inventory.
violation contains {"msg": msg, "path": path} if {
	some i, ref in gateway_refs
	gateway_ns := ref_namespace(ref)
	not gateway(gateway_ns, ref.name)
	not input.parameters.allowUnknownGateways == true
	path := sprintf("/spec/parentRefs/%d", [i])
	msg := sprintf(
		"%s attaches through spec.parentRefs[%d] to %s, which is not in the inventory: whether its listeners terminate TLS cannot be verified; apply or scan the Gateway together with the route, or fix the parentRef's name and namespace",
		[route_text, i, gateway_text(gateway_ns, ref.name)],
	)
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
