package gatehouse.kubernetes.require_ingress_tls

# Every host an Ingress serves must be covered by one of its spec.tls entries: exactly, or by a
# wildcard TLS host ("*.example.com") that covers one more label. A rule without a host, and a
# defaultBackend without rules, serve every host name: no certificate can cover them.

# The TLS hosts of the Ingress, lowercased (DNS names compare case-insensitively). Entries or
# hosts of the wrong type are skipped: they cover nothing.
tls_hosts := {lower(h) |
	entries := input.review.object.spec.tls
	is_array(entries)
	some entry in entries
	is_object(entry)
	hosts := entry.hosts
	is_array(hosts)
	some h in hosts
	is_string(h)
}

# spec.tls holds at least one entry (absent, null and [] all mean "no TLS section").
has_tls_section if {
	entries := input.review.object.spec.tls
	is_array(entries)
	count(entries) > 0
}

covered(host) if lower(host) in tls_hosts

# "*.example.com" covers "shop.example.com": swap the first label for "*".
covered(host) if {
	i := indexof(host, ".")
	i > 0
	concat("", ["*", lower(substring(host, i, -1))]) in tls_hosts
}

# A host that is absent, null or empty: the rule serves every host name.
no_host(rule) if object.get(rule, "host", null) in {null, ""}

kind_name := sprintf("Ingress %s", [quoted(data.gatehouse.lib.kubernetes.name)])

# A rule's host that no TLS entry covers.
violation contains {"msg": msg, "path": path} if {
	not data.gatehouse.lib.kubernetes.deleting
	rules := input.review.object.spec.rules
	is_array(rules)
	some i, rule in rules
	host := rule.host
	is_string(host)
	host != ""
	not covered(host)
	path := sprintf("/spec/rules/%d/host", [i])
	msg := uncovered_msg(host, i)
}

# A rule without a host.
violation contains {"msg": msg, "path": path} if {
	not data.gatehouse.lib.kubernetes.deleting
	rules := input.review.object.spec.rules
	is_array(rules)
	some i, rule in rules
	is_object(rule)
	no_host(rule)
	path := sprintf("/spec/rules/%d/host", [i])
	msg := sprintf(
		"%s: spec.rules[%d] sets no host, so it serves every host name that reaches the controller, which no certificate can cover: set its host and list it in the hosts of a spec.tls entry",
		[kind_name, i],
	)
}

# A defaultBackend without rules: a catch-all for every host name.
violation contains {"msg": msg, "path": "/spec/defaultBackend"} if {
	not data.gatehouse.lib.kubernetes.deleting
	spec := input.review.object.spec
	is_object(spec.defaultBackend)
	object.get(spec, "rules", null) in {null, []}
	msg := sprintf(
		"%s has a defaultBackend and no rules, so it serves every host name that reaches the controller, which no certificate can cover: add rules naming the hosts it serves and list them in spec.tls",
		[kind_name],
	)
}

uncovered_msg(host, i) := sprintf(
	"%s serves host %q (spec.rules[%d]) over plain HTTP: it has no spec.tls section; add a spec.tls entry listing %q with the Secret of its certificate",
	[kind_name, host, i, host],
) if {
	not has_tls_section
} else := sprintf(
	"%s serves host %q (spec.rules[%d]) over plain HTTP: no spec.tls entry lists it or a wildcard covering it; add it to the hosts of a spec.tls entry whose certificate covers it",
	[kind_name, host, i],
)

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
