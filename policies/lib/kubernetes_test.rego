package gatehouse.lib.kubernetes_test

import data.gatehouse.lib.kubernetes as k8s

review(kind, obj) := {"review": {"kind": {"group": "apps", "version": "v1", "kind": kind}, "namespace": "shop", "object": obj}}

test_pod_spec_of_every_workload_kind if {
	k8s.pod_spec_path == "/spec" with input as review("Pod", {"spec": {}})
	k8s.pod_spec_path == "/spec/template/spec" with input as review("StatefulSet", {"spec": {"template": {"spec": {}}}})
	k8s.pod_spec_path == "/spec/jobTemplate/spec/template/spec" with input as review("CronJob", {})
	k8s.pod_spec == {"containers": []} with input as review("Job", {"spec": {"template": {"spec": {"containers": []}}}})
}

test_an_argo_rollout_is_judged_by_its_own_template_unless_it_borrows_a_deployments if {
	k8s.pod_spec_path == "/spec/template/spec" with input as review("Rollout", {"spec": {"template": {"spec": {}}}})
	k8s.pod_labels == {"app": "web"} with input as review("Rollout", {"spec": {"template": {"metadata": {"labels": {"app": "web"}}}}})
	not k8s.pod_spec with input as review("Rollout", {"spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}})
}

test_namespace_prefers_the_review_then_the_object_then_default if {
	k8s.namespace == "shop" with input as review("Pod", {"metadata": {"namespace": "other"}})
	k8s.namespace == "other" with input as {"review": {"kind": {"kind": "Pod"}, "object": {"metadata": {"namespace": "other"}}}}
	k8s.namespace == "default" with input as {"review": {"kind": {"kind": "Pod"}, "object": {"metadata": {}}}}
}

test_selector_semantics if {
	labels := {"app": "web", "tier": "front"}
	k8s.selector_matches({}, labels)
	k8s.selector_matches({"matchLabels": {"app": "web"}}, labels)
	not k8s.selector_matches({"matchLabels": {"app": "api"}}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, labels)
}

test_min_replicas_comes_from_an_hpa_in_the_same_namespace if {
	hpa := {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 3}}
	inv := {"namespace": {"shop": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa}}}}}
	obj := {"metadata": {"name": "web"}, "spec": {"replicas": 1}}
	k8s.min_replicas == 3 with input as review("Deployment", obj) with data.inventory as inv
	other_ns := {"namespace": {"other": {"autoscaling/v2": {"HorizontalPodAutoscaler": {"web": hpa}}}}}
	k8s.min_replicas == 1 with input as review("Deployment", obj) with data.inventory as other_ns
	k8s.min_replicas == 1 with input as review("Deployment", {"metadata": {"name": "web"}, "spec": {}})
}

test_container_labels if {
	k8s.container_label("initContainers", {"name": "setup"}) == "initContainer \"setup\""
	k8s.container_label("containers", {"name": "app"}) == "container \"app\""
	k8s.container_path("containers", 2) == "/spec/template/spec/containers/2" with input as review("Deployment", {})
}
