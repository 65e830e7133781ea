package gatehouse.kubernetes.require_route_rate_limit

# An HTTPRoute attached to a public Gateway is covered by an Envoy Gateway BackendTrafficPolicy
# with a spec.rateLimit: one in the route's namespace targeting the route, or one in the
# Gateway's namespace targeting the Gateway (unless a route-level policy without a rateLimit or
# mergeType replaces it). Gateways and policies come from data.inventory, looked up in the
# route's namespace and in the namespaces its parentRefs name, never elsewhere.

gateway_group := "gateway.networking.k8s.io"

policy_version := "gateway.envoyproxy.io/v1alpha1"

route_namespace := data.gatehouse.lib.kubernetes.namespace

# The parentRefs to a public Gateway, by index. Every rule below starts here: a route on an
# internal Gateway costs no policy lookup.
public_refs[i] := {"namespace": ns, "name": ref.name, "gateway": g} if {
	not data.gatehouse.lib.kubernetes.deleting
	refs := input.review.object.spec.parentRefs
	is_array(refs)
	some i, ref in refs
	is_object(ref)
	or_default(ref, "group", gateway_group) == gateway_group
	or_default(ref, "kind", "Gateway") == "Gateway"
	is_string(ref.name)
	ns := ref_namespace(ref)
	g := gateway(ns, ref.name)
	public(g)
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

public(g) if labels_of(g)[input.parameters.publicGatewayLabel] == "public"

labels_of(obj) := labels if {
	labels := obj.metadata.labels
	is_object(labels)
} else := {}

# The BackendTrafficPolicies of a namespace, by name.
policies(ns) := p if {
	p := data.inventory.namespace[ns][policy_version].BackendTrafficPolicy
	is_object(p)
} else := {}

rate_limited(policy) if {
	limit := policy.spec.rateLimit
	is_object(limit)
	count(limit) > 0
}

# The policy's direct references: targetRef when set (Envoy Gateway then ignores targetRefs).
target_refs(spec) := [ref] if {
	ref := spec.targetRef
	is_object(ref)
} else := refs if {
	refs := spec.targetRefs
	is_array(refs)
} else := []

# The policy targets the whole object (kind, name, labels): a reference without sectionName, or
# a selector of its kind matching its labels.
targets(policy, kind, name, _) if {
	spec := policy.spec
	is_object(spec)
	some ref in target_refs(spec)
	is_object(ref)
	or_default(ref, "group", gateway_group) == gateway_group
	ref.kind == kind
	ref.name == name
	not has_value(ref, "sectionName")
}

targets(policy, kind, _, labels) if selected_by(policy, kind, labels)

# The policy targets the object or a part of it (a reference with a sectionName).
touches(policy, kind, name, labels) if targets(policy, kind, name, labels)

touches(policy, kind, name, _) if {
	spec := policy.spec
	is_object(spec)
	some ref in target_refs(spec)
	is_object(ref)
	or_default(ref, "group", gateway_group) == gateway_group
	ref.kind == kind
	ref.name == name
}

selected_by(policy, kind, labels) if {
	selectors := policy.spec.targetSelectors
	is_array(selectors)
	some selector in selectors
	is_object(selector)
	or_default(selector, "group", gateway_group) == gateway_group
	selector.kind == kind
	data.gatehouse.lib.kubernetes.selector_matches(selector, labels)
}

route_name := input.review.object.metadata.name

route_labels := labels_of(input.review.object)

# A policy in the route's namespace rate-limits the whole route.
route_covered if {
	some policy in policies(route_namespace)
	rate_limited(policy)
	targets(policy, "HTTPRoute", route_name, route_labels)
}

# Route-level policies without a rateLimit that replace the Gateway's, by name.
replacing_policies contains name if {
	some name, policy in policies(route_namespace)
	touches(policy, "HTTPRoute", route_name, route_labels)
	not rate_limited(policy)
	not has_value(policy.spec, "mergeType")
}

# The policies of the Gateway's namespace that rate-limit the Gateway, by name.
gateway_policies(ref) := {name |
	some name, policy in policies(ref.namespace)
	rate_limited(policy)
	targets(policy, "Gateway", ref.name, labels_of(ref.gateway))
}

route_text := sprintf("HTTPRoute %s", [quoted(data.gatehouse.lib.kubernetes.name)])

gateway_text(ref) := sprintf("public Gateway %q", [concat("/", [ref.namespace, ref.name])])

# Neither the route nor the Gateway is rate limited.
violation contains {"msg": msg, "path": path} if {
	some i, ref in public_refs
	not route_covered
	count(gateway_policies(ref)) == 0
	path := sprintf("/spec/parentRefs/%d", [i])
	msg := sprintf(
		"%s attaches through spec.parentRefs[%d] to %s, but no BackendTrafficPolicy with a spec.rateLimit targets the route (in namespace %q) or the Gateway (in namespace %q): add one targeting HTTPRoute %s with a rateLimit",
		[route_text, i, gateway_text(ref), route_namespace, ref.namespace, quoted(data.gatehouse.lib.kubernetes.name)],
	)
}

# The Gateway is rate limited, but a route-level policy replaces its policy.
violation contains {"msg": msg, "path": path} if {
	some i, ref in public_refs
	not route_covered
	limits := gateway_policies(ref)
	count(limits) > 0
	count(replacing_policies) > 0
	path := sprintf("/spec/parentRefs/%d", [i])
	msg := sprintf(
		"%s attaches through spec.parentRefs[%d] to %s, rate limited by BackendTrafficPolicy %s, but BackendTrafficPolicy %s targets the route without a rateLimit or a mergeType and replaces it (Envoy Gateway applies only the most specific policy): add a rateLimit to it or set its spec.mergeType to StrategicMerge",
		[route_text, i, gateway_text(ref), names(ref.namespace, limits), names(route_namespace, replacing_policies)],
	)
}

# "a/x", "a/y" for a message.
names(ns, items) := concat(", ", [sprintf("%q", [concat("/", [ns, n])]) | some n in items])

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
