package gatehouse.kubernetes.require_ingress_tls_test

import data.gatehouse.kubernetes.require_ingress_tls

ingress(spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": spec,
}

review(obj) := {"review": {
	"kind": {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"},
	"name": "web",
	"namespace": "shop",
	"operation": "CREATE",
	"object": obj,
}}

backend := {"service": {"name": "web", "port": {"number": 80}}}

rule(host) := {"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}

hostless := {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}

tls(hosts) := {"hosts": hosts, "secretName": "web-tls"}

violations(spec) := v if {
	v := require_ingress_tls.violation with input as review(ingress(spec))
}

paths(spec) := {x.path | some x in violations(spec)}

test_hosts_listed_in_tls_pass if {
	count(violations({"rules": [rule("shop.example.com")], "tls": [tls(["shop.example.com"])]})) == 0
	count(violations({
		"rules": [rule("shop.example.com"), rule("api.example.com")],
		"tls": [tls(["api.example.com"]), tls(["shop.example.com", "www.example.com"])],
	})) == 0
}

test_a_host_missing_from_tls_is_reported_at_its_rule if {
	v := violations({
		"rules": [rule("shop.example.com"), rule("admin.example.com")],
		"tls": [tls(["shop.example.com"])],
	})
	v == {{
		"msg": "Ingress \"web\" serves host \"admin.example.com\" (spec.rules[1]) over plain HTTP: no spec.tls entry lists it or a wildcard covering it; add it to the hosts of a spec.tls entry whose certificate covers it",
		"path": "/spec/rules/1/host",
	}}
}

test_no_tls_section_reports_every_host if {
	v := violations({"rules": [rule("shop.example.com"), rule("api.example.com")]})
	v == {
		{
			"msg": "Ingress \"web\" serves host \"shop.example.com\" (spec.rules[0]) over plain HTTP: it has no spec.tls section; add a spec.tls entry listing \"shop.example.com\" with the Secret of its certificate",
			"path": "/spec/rules/0/host",
		},
		{
			"msg": "Ingress \"web\" serves host \"api.example.com\" (spec.rules[1]) over plain HTTP: it has no spec.tls section; add a spec.tls entry listing \"api.example.com\" with the Secret of its certificate",
			"path": "/spec/rules/1/host",
		},
	}
}

test_null_or_empty_tls_is_no_tls_section if {
	paths({"rules": [rule("shop.example.com")], "tls": null}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("shop.example.com")], "tls": []}) == {"/spec/rules/0/host"}
	[x.msg | some x in violations({"rules": [rule("shop.example.com")], "tls": []})] == ["Ingress \"web\" serves host \"shop.example.com\" (spec.rules[0]) over plain HTTP: it has no spec.tls section; add a spec.tls entry listing \"shop.example.com\" with the Secret of its certificate"]
}

test_a_tls_entry_without_hosts_covers_nothing if {
	paths({"rules": [rule("shop.example.com")], "tls": [{"secretName": "web-tls"}]}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("shop.example.com")], "tls": [tls(null)]}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("shop.example.com")], "tls": [tls([])]}) == {"/spec/rules/0/host"}
}

test_a_wildcard_covers_exactly_one_label if {
	wildcard := [tls(["*.example.com"])]
	count(violations({"rules": [rule("shop.example.com"), rule("api.example.com")], "tls": wildcard})) == 0
	paths({"rules": [rule("example.com")], "tls": wildcard}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("a.shop.example.com")], "tls": wildcard}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("shop.example.org")], "tls": wildcard}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("localhost")], "tls": wildcard}) == {"/spec/rules/0/host"}
}

test_a_wildcard_rule_host_needs_the_same_wildcard if {
	count(violations({"rules": [rule("*.example.com")], "tls": [tls(["*.example.com"])]})) == 0
	paths({"rules": [rule("*.example.com")], "tls": [tls(["shop.example.com"])]}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("*.shop.example.com")], "tls": [tls(["*.example.com"])]}) == {"/spec/rules/0/host"}
}

test_an_exact_tls_host_does_not_cover_subdomains if {
	paths({"rules": [rule("api.shop.example.com")], "tls": [tls(["shop.example.com"])]}) == {"/spec/rules/0/host"}
}

test_hosts_compare_case_insensitively if {
	count(violations({"rules": [rule("Shop.Example.com")], "tls": [tls(["shop.example.com"])]})) == 0
	count(violations({"rules": [rule("shop.example.com")], "tls": [tls(["*.EXAMPLE.com"])]})) == 0
}

test_a_rule_without_host_is_reported if {
	msg := "Ingress \"web\": spec.rules[1] sets no host, so it serves every host name that reaches the controller, which no certificate can cover: set its host and list it in the hosts of a spec.tls entry"
	v := violations({"rules": [rule("shop.example.com"), hostless], "tls": [tls(["shop.example.com", "*.example.com"])]})
	v == {{"msg": msg, "path": "/spec/rules/1/host"}}
	paths({"rules": [rule(null)], "tls": [tls(["*.example.com"])]}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("")], "tls": [tls(["*.example.com"])]}) == {"/spec/rules/0/host"}
	paths({"rules": [{}], "tls": [tls(["*.example.com"])]}) == {"/spec/rules/0/host"}
}

test_a_default_backend_without_rules_is_reported if {
	msg := "Ingress \"web\" has a defaultBackend and no rules, so it serves every host name that reaches the controller, which no certificate can cover: add rules naming the hosts it serves and list them in spec.tls"
	violations({"defaultBackend": backend}) == {{"msg": msg, "path": "/spec/defaultBackend"}}
	paths({"defaultBackend": backend, "rules": [], "tls": [tls(["shop.example.com"])]}) == {"/spec/defaultBackend"}
	paths({"defaultBackend": backend, "rules": null}) == {"/spec/defaultBackend"}
}

test_a_default_backend_beside_covered_rules_passes if {
	count(violations({"defaultBackend": backend, "rules": [rule("shop.example.com")], "tls": [tls(["shop.example.com"])]})) == 0
}

test_an_ingress_without_rules_or_backend_raises_nothing if {
	count(violations({})) == 0
	count(violations({"rules": null, "tls": null})) == 0
	count(violations({"rules": []})) == 0
	count(require_ingress_tls.violation) == 0 with input as review({"metadata": {"name": "web"}})
}

test_malformed_fields_raise_nothing_without_error if {
	count(violations({"rules": "shop.example.com"})) == 0
	count(violations({"rules": [null, "shop.example.com", 3]})) == 0
	count(violations({"rules": [rule(42)], "tls": [tls(["shop.example.com"])]})) == 0
	count(violations("not a spec")) == 0
	paths({"rules": [rule("shop.example.com")], "tls": "shop.example.com"}) == {"/spec/rules/0/host"}
	paths({"rules": [rule("shop.example.com")], "tls": [null, "x", tls("shop.example.com"), tls([1, null])]}) == {"/spec/rules/0/host"}
	count(violations({"rules": [rule("shop.example.com")], "tls": [null, tls([1, "shop.example.com"])]})) == 0
	paths({"defaultBackend": "web"}) == set()
}

test_a_name_that_is_not_a_string_still_reads if {
	obj := object.union(ingress({"rules": [hostless]}), {"metadata": {"name": 7}})
	v := require_ingress_tls.violation with input as review(obj)
	[x.msg | some x in v] == ["Ingress 7: spec.rules[0] sets no host, so it serves every host name that reaches the controller, which no certificate can cover: set its host and list it in the hosts of a spec.tls entry"]
}

test_deletes_are_let_through if {
	inp := object.union(review(ingress({"rules": [rule("shop.example.com")]})), {"review": {"operation": "DELETE"}})
	count(require_ingress_tls.violation) == 0 with input as inp
	deleting := ingress({"rules": [rule("shop.example.com")]})
	being_deleted := object.union(deleting, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(require_ingress_tls.violation) == 0 with input as review(being_deleted)
	count(require_ingress_tls.violation) == 1 with input as review(deleting)
}
