package gatehouse.kubernetes.require_metrics_scraping_test

import data.gatehouse.kubernetes.require_metrics_scraping as policy

params := {"metricsPortNames": ["metrics", "http-metrics", "prometheus"], "monitorNamespaces": ["monitoring"]}

web_labels := {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop"}

ports := [
	{"name": "http", "port": 80, "targetPort": "http"},
	{"name": "metrics", "port": 9090, "targetPort": 9090},
]

service_object(spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": "shop", "labels": web_labels},
	"spec": object.union({"selector": {"app.kubernetes.io/name": "web"}, "ports": ports}, spec),
}

review(obj) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Service"},
		"namespace": "shop",
		"operation": "CREATE",
		"object": obj,
	},
	"parameters": params,
}

service(spec) := review(service_object(spec))

monitor(kind, name, ns, spec) := {
	"apiVersion": "monitoring.coreos.com/v1",
	"kind": kind,
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

service_monitor(ns, spec) := monitor("ServiceMonitor", "web", ns, object.union(
	{"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "endpoints": [{"port": "metrics", "interval": "30s"}]},
	spec,
))

pod_monitor(ns, spec) := monitor("PodMonitor", "web", ns, object.union(
	{"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "podMetricsEndpoints": [{"port": "metrics"}]},
	spec,
))

# An inventory holding the given monitors, filed by their namespace and kind.
inventory(monitors) := {"namespace": {ns: {"monitoring.coreos.com/v1": by_kind} |
	some m in monitors
	ns := m.metadata.namespace
	by_kind := {kind: {x.metadata.name: x | some x in monitors; x.metadata.namespace == ns; x.kind == kind} |
		some y in monitors
		y.metadata.namespace == ns
		kind := y.kind
	}
}}

violations(inp, inv) := v if {
	v := policy.violation with input as inp with data.inventory as inv
}

paths(inp, inv) := {x.path | some x in violations(inp, inv)}

unscraped := {{
	"msg": "Service \"web\" exposes metrics on port \"metrics\", but no ServiceMonitor or PodMonitor (monitoring.coreos.com/v1) scrapes it: add a ServiceMonitor in namespace \"shop\" whose selector matches the Service's labels, with an endpoint on port \"metrics\", or list the namespace in spec.namespaceSelector.matchNames of a ServiceMonitor in \"monitoring\"",
	"path": "/spec/ports/1/name",
}}

test_a_service_monitor_in_the_namespace_scrapes_the_port if {
	count(violations(service({}), inventory([service_monitor("shop", {})]))) == 0
}

test_an_unscraped_metrics_port_is_reported if {
	violations(service({}), {}) == unscraped
	v := policy.violation with input as service({})
	v == unscraped
}

test_services_without_metrics_ports_are_not_checked if {
	count(violations(service({"ports": [{"name": "http", "port": 80}]}), {})) == 0
	count(violations(service({"ports": [{"port": 9090}]}), {})) == 0
	count(violations(service({"ports": null}), {})) == 0
	count(violations(service({"ports": "metrics"}), {})) == 0
	count(violations(service({"ports": [{"name": 9090, "port": 9090}, "metrics"]}), {})) == 0
	count(violations(review({"metadata": {"name": "web"}}), {})) == 0
}

test_every_metrics_port_name_is_checked if {
	spec := {"ports": [
		{"name": "http-metrics", "port": 8080},
		{"name": "grpc", "port": 9000},
		{"name": "prometheus", "port": 9102},
	]}
	paths(service(spec), {}) == {"/spec/ports/0/name", "/spec/ports/2/name"}
	monitored := service_monitor("shop", {"endpoints": [{"port": "http-metrics"}]})
	paths(service(spec), inventory([monitored])) == {"/spec/ports/2/name"}
}

test_the_metrics_port_names_are_a_parameter if {
	custom := object.union(service({}), {"parameters": {"metricsPortNames": ["telemetry"], "monitorNamespaces": []}})
	count(policy.violation) == 0 with input as custom
	telemetry := object.union(service({"ports": [{"name": "telemetry", "port": 9464}]}), {"parameters": {"metricsPortNames": ["telemetry"], "monitorNamespaces": []}})
	v := policy.violation with input as telemetry
	{x.path | some x in v} == {"/spec/ports/0/name"}
}

test_the_endpoint_must_name_the_port if {
	other_port := service_monitor("shop", {"endpoints": [{"port": "http"}]})
	violations(service({}), inventory([other_port])) == unscraped
	by_number := service_monitor("shop", {"endpoints": [{"targetPort": 9090}]})
	violations(service({}), inventory([by_number])) == unscraped
	no_endpoints := service_monitor("shop", {"endpoints": null})
	violations(service({}), inventory([no_endpoints])) == unscraped
	string_endpoints := service_monitor("shop", {"endpoints": "metrics"})
	violations(service({}), inventory([string_endpoints])) == unscraped
	several := service_monitor("shop", {"endpoints": ["metrics", {"port": "http"}, {"port": "metrics", "path": "/metrics"}]})
	count(violations(service({}), inventory([several]))) == 0
}

# A ServiceMonitor of namespace shop scraping port metrics, with the given selector.
selecting(selector) := monitor("ServiceMonitor", "web", "shop", {"selector": selector, "endpoints": [{"port": "metrics"}]})

test_the_selector_must_match_the_service_labels if {
	violations(service({}), inventory([selecting({"matchLabels": {"app.kubernetes.io/name": "api"}})])) == unscraped
	violations(service({}), inventory([selecting({"matchLabels": {"app.kubernetes.io/name": "web", "tier": "front"}})])) == unscraped
	violations(service({}), inventory([selecting({"matchExpressions": [{"key": "app.kubernetes.io/part-of", "operator": "NotIn", "values": ["shop"]}]})])) == unscraped
	count(violations(service({}), inventory([selecting({"matchExpressions": [{"key": "app.kubernetes.io/part-of", "operator": "In", "values": ["shop"]}]})]))) == 0
	count(violations(service({}), inventory([selecting({})]))) == 0
	violations(service({}), inventory([selecting(null)])) == unscraped
	violations(service({}), inventory([selecting("app=web")])) == unscraped
	violations(service({}), inventory([monitor("ServiceMonitor", "web", "shop", {"endpoints": [{"port": "metrics"}]})])) == unscraped
}

test_the_service_labels_count_not_its_pod_selector if {
	unlabelled := object.union(service({}), {"review": {"object": {"metadata": {"labels": null}}}})
	violations(unlabelled, inventory([selecting({"matchLabels": {"app.kubernetes.io/name": "web"}})])) == unscraped
	count(violations(unlabelled, inventory([selecting({})]))) == 0
	string_labels := object.union(service({}), {"review": {"object": {"metadata": {"labels": "app=web"}}}})
	violations(string_labels, inventory([selecting({"matchLabels": {"app.kubernetes.io/name": "web"}})])) == unscraped
}

test_a_monitor_in_another_namespace_does_not_count if {
	violations(service({}), inventory([service_monitor("staging", {})])) == unscraped
	violations(service({}), inventory([service_monitor("monitoring", {})])) == unscraped
	violations(service({}), inventory([service_monitor("staging", {"namespaceSelector": {"matchNames": ["shop"]}})])) == unscraped
}

test_a_central_monitor_naming_the_namespace_counts if {
	central := service_monitor("monitoring", {"namespaceSelector": {"matchNames": ["payments", "shop"]}})
	count(violations(service({}), inventory([central]))) == 0
	everywhere := service_monitor("monitoring", {"namespaceSelector": {"any": true}})
	count(violations(service({}), inventory([everywhere]))) == 0
	elsewhere := service_monitor("monitoring", {"namespaceSelector": {"matchNames": ["payments"]}})
	violations(service({}), inventory([elsewhere])) == unscraped
	broken := service_monitor("monitoring", {"namespaceSelector": {"matchNames": "shop"}})
	violations(service({}), inventory([broken])) == unscraped
}

test_match_names_restrict_a_monitor_to_the_listed_namespaces if {
	# A monitor in the Service's namespace that lists only other namespaces does not watch its own.
	violations(service({}), inventory([service_monitor("shop", {"namespaceSelector": {"matchNames": ["payments"]}})])) == unscraped
	count(violations(service({}), inventory([service_monitor("shop", {"namespaceSelector": {"matchNames": ["shop"]}})]))) == 0
	count(violations(service({}), inventory([service_monitor("shop", {"namespaceSelector": {"matchNames": [], "any": false}})]))) == 0
	count(violations(service({}), inventory([service_monitor("shop", {"namespaceSelector": {"any": true}})]))) == 0
}

test_the_message_names_the_monitor_namespaces if {
	several := object.union(service({}), {"parameters": {"monitorNamespaces": ["monitoring", "shop", "observability"]}})
	v := policy.violation with input as several
	[x.msg | some x in v] == ["Service \"web\" exposes metrics on port \"metrics\", but no ServiceMonitor or PodMonitor (monitoring.coreos.com/v1) scrapes it: add a ServiceMonitor in namespace \"shop\" whose selector matches the Service's labels, with an endpoint on port \"metrics\", or list the namespace in spec.namespaceSelector.matchNames of a ServiceMonitor in \"monitoring\" or \"observability\""]
	none := object.union(service({}), {"parameters": {"monitorNamespaces": []}})
	w := policy.violation with input as none
	[x.msg | some x in w] == ["Service \"web\" exposes metrics on port \"metrics\", but no ServiceMonitor or PodMonitor (monitoring.coreos.com/v1) scrapes it: add a ServiceMonitor in namespace \"shop\" whose selector matches the Service's labels, with an endpoint on port \"metrics\""]
}

test_the_monitor_namespaces_are_a_parameter if {
	central := service_monitor("observability", {"namespaceSelector": {"matchNames": ["shop"]}})
	violations(service({}), inventory([central])) == unscraped
	custom := object.union(service({}), {"parameters": {"monitorNamespaces": ["observability"]}})
	count(policy.violation) == 0 with input as custom with data.inventory as inventory([central])
	none := object.union(service({}), {"parameters": {"monitorNamespaces": []}})
	own := service_monitor("shop", {})
	count(policy.violation) == 0 with input as none with data.inventory as inventory([own])
}

test_a_pod_monitor_on_the_service_pods_counts if {
	count(violations(service({}), inventory([pod_monitor("shop", {})]))) == 0
	central := pod_monitor("monitoring", {"namespaceSelector": {"matchNames": ["shop"]}})
	count(violations(service({}), inventory([central]))) == 0
	violations(service({}), inventory([pod_monitor("staging", {})])) == unscraped
	violations(service({}), inventory([pod_monitor("shop", {"selector": {"matchLabels": {"app.kubernetes.io/name": "api"}}})])) == unscraped
	# The pods carry the Service's selector labels, not necessarily the Service's own labels.
	by_service_labels := monitor("PodMonitor", "web", "shop", {"selector": {"matchLabels": {"app.kubernetes.io/part-of": "shop"}}, "podMetricsEndpoints": [{"port": "metrics"}]})
	violations(service({}), inventory([by_service_labels])) == unscraped
	everything := monitor("PodMonitor", "web", "shop", {"selector": {}, "podMetricsEndpoints": [{"port": "metrics"}]})
	count(violations(service({}), inventory([everything]))) == 0
	# A Service without a selector has no pods the policy can see.
	violations(service({"selector": null}), inventory([pod_monitor("shop", {})])) == unscraped
}

test_a_pod_monitor_endpoint_may_name_the_target_port if {
	named := {"ports": [{"name": "metrics", "port": 9090, "targetPort": "prom"}]}
	count(violations(service(named), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"port": "prom"}]})]))) == 0
	count(violations(service(named), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"port": "metrics"}]})]))) == 0
	paths(service(named), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"port": "http"}]})])) == {"/spec/ports/0/name"}
	count(violations(service({}), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"portNumber": 9090}]})]))) == 0
	paths(service({}), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"portNumber": 8080}]})])) == {"/spec/ports/1/name"}
	untargeted := {"ports": [{"name": "metrics", "port": 9090}]}
	count(violations(service(untargeted), inventory([pod_monitor("shop", {"podMetricsEndpoints": [{"portNumber": 9090}]})]))) == 0
	paths(service(untargeted), inventory([pod_monitor("shop", {"podMetricsEndpoints": null})])) == {"/spec/ports/0/name"}
	paths(service(untargeted), inventory([pod_monitor("shop", {"podMetricsEndpoints": ["metrics"]})])) == {"/spec/ports/0/name"}
}

test_external_name_services_are_skipped if {
	count(violations(service({"type": "ExternalName", "externalName": "metrics.example.com"}), {})) == 0
	paths(service({"type": "ClusterIP", "clusterIP": "None"}), {}) == {"/spec/ports/1/name"}
}

test_malformed_inventories_raise_no_error if {
	every inv in [
		{"namespace": {"shop": {"monitoring.coreos.com/v1": {"ServiceMonitor": "web"}}}},
		{"namespace": {"shop": {"monitoring.coreos.com/v1": {"ServiceMonitor": {"web": "metrics"}}}}},
		{"namespace": {"shop": {"monitoring.coreos.com/v1": {"ServiceMonitor": {"web": {"spec": "metrics"}}}}}},
		{"namespace": {"shop": {"monitoring.coreos.com/v1": "ServiceMonitor"}}},
		{"namespace": {"shop": {"monitoring.coreos.com/v1beta1": {"ServiceMonitor": {"web": service_monitor("shop", {})}}}}},
	] {
		v := policy.violation with input as service({}) with data.inventory as inv
		v == unscraped
	}
}

test_deletes_are_let_through if {
	count(violations(object.union(service({}), {"review": {"operation": "DELETE", "object": null}}), {})) == 0
	finalizing := object.union(service({}), {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing, {})) == 0
	update := object.union(service({}), {"review": {"operation": "UPDATE"}})
	violations(update, {}) == unscraped
}
