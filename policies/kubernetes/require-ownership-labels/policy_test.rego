package gatehouse.kubernetes.require_ownership_labels_test

import data.gatehouse.kubernetes.require_ownership_labels as policy

params := {
	"requiredLabels": ["app.kubernetes.io/name", "app.kubernetes.io/part-of"],
	"ownerLabels": ["team", "owner", "gatehouse.dev/team"],
	"podTemplateLabels": ["app.kubernetes.io/name"],
}

good_labels := {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop", "team": "payments"}

pod_labels := {"app.kubernetes.io/name": "checkout"}

groups := {"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "Job": "batch", "CronJob": "batch", "Rollout": "argoproj.io"}

template(labels) := {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "registry.example/checkout:1.2.0"}]}}

spec(kind, pod) := {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template(pod)}}} if kind == "CronJob"

spec(kind, pod) := {"replicas": 2, "template": template(pod)} if kind != "CronJob"

workload(kind, labels, pod) := {
	"review": {
		"kind": {"group": groups[kind], "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": {
			"kind": kind,
			"metadata": {"name": "checkout", "namespace": "shop", "labels": labels},
			"spec": spec(kind, pod),
		},
	},
	"parameters": params,
}

violations(inp) := v if {
	v := policy.violation with input as inp
}

paths(inp) := {x.path | some x in violations(inp)}

msgs(inp) := {x.msg | some x in violations(inp)}

test_a_labelled_workload_passes if {
	every kind, _ in groups {
		count(policy.violation) == 0 with input as workload(kind, good_labels, pod_labels)
	}
}

test_each_owner_label_is_enough if {
	base := object.remove(good_labels, ["team"])
	every owner in ["team", "owner", "gatehouse.dev/team"] {
		count(policy.violation) == 0 with input as workload("Deployment", object.union(base, {owner: "payments"}), pod_labels)
	}
}

test_missing_recommended_labels_are_reported if {
	violations(workload("Deployment", {"team": "payments"}, pod_labels)) == {{
		"msg": "Deployment \"checkout\" lacks the labels app.kubernetes.io/name, app.kubernetes.io/part-of in metadata.labels: add them so that its metrics, logs and alerts are attributable to the application",
		"path": "/metadata/labels",
	}}
	msgs(workload("Deployment", object.remove(good_labels, ["app.kubernetes.io/part-of"]), pod_labels)) == {"Deployment \"checkout\" lacks the label app.kubernetes.io/part-of in metadata.labels: add it so that its metrics, logs and alerts are attributable to the application"}
}

test_a_missing_owner_is_reported if {
	violations(workload("StatefulSet", object.remove(good_labels, ["team"]), pod_labels)) == {{
		"msg": "StatefulSet \"checkout\" names no owner in metadata.labels (one of team, owner, gatehouse.dev/team): add the owning team, so that its alerts are routed to that team and escalated by its policy",
		"path": "/metadata/labels",
	}}
}

test_empty_or_non_string_values_do_not_count if {
	count(violations(workload("Deployment", object.union(good_labels, {"team": ""}), pod_labels))) == 1
	count(violations(workload("Deployment", object.union(good_labels, {"app.kubernetes.io/name": ""}), pod_labels))) == 1
	count(violations(workload("Deployment", object.union(good_labels, {"team": null}), pod_labels))) == 1
	count(violations(workload("Deployment", good_labels, {"app.kubernetes.io/name": 3}))) == 1
}

test_missing_or_malformed_labels_report_everything if {
	every labels in [null, {}, "team=payments", ["team"]] {
		p := {x.msg | some x in policy.violation} with input as workload("DaemonSet", labels, null)
		count(p) == 3
	}
	bare := {"review": {"kind": {"group": "apps", "kind": "Deployment"}, "object": {"metadata": {"name": "checkout"}}}, "parameters": params}
	paths(bare) == {"/metadata/labels", "/spec/template/metadata/labels"}
	count(violations(bare)) == 3
}

test_the_pod_template_must_carry_the_name if {
	violations(workload("Deployment", good_labels, {"app": "checkout"})) == {{
		"msg": "the pod template of Deployment \"checkout\" lacks the label app.kubernetes.io/name: add it so that the metrics and logs of its pods are attributable to the application",
		"path": "/spec/template/metadata/labels",
	}}
	paths(workload("Job", good_labels, null)) == {"/spec/template/metadata/labels"}
	# The workload's own labels do not stand in for the pods'.
	paths(workload("StatefulSet", good_labels, {})) == {"/spec/template/metadata/labels"}
}

test_a_cronjob_pod_template_is_under_the_job_template if {
	violations(workload("CronJob", good_labels, {})) == {{
		"msg": "the pod template of CronJob \"checkout\" lacks the label app.kubernetes.io/name: add it so that the metrics and logs of its pods are attributable to the application",
		"path": "/spec/jobTemplate/spec/template/metadata/labels",
	}}
	# Labels at the Job template's level do not reach the pods.
	job_level := object.union(workload("CronJob", good_labels, {}), {"review": {"object": {"spec": {"jobTemplate": {"metadata": {"labels": pod_labels}}}}}})
	paths(job_level) == {"/spec/jobTemplate/spec/template/metadata/labels"}
}

test_every_targeted_kind_is_checked if {
	every kind, _ in groups {
		v := policy.violation with input as workload(kind, {}, {})
		count(v) == 3
	}
}

test_a_rollout_with_a_workload_ref_has_no_template_to_check if {
	inp := workload("Rollout", good_labels, {})
	paths(inp) == {"/spec/template/metadata/labels"}
	ref := object.union(inp, {"review": {"object": {"spec": {"template": null, "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"}}}}})
	count(violations(ref)) == 0
	unlabelled := object.union(workload("Rollout", {"team": "payments"}, {}), {"review": {"object": {"spec": {"template": null, "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"}}}}})
	paths(unlabelled) == {"/metadata/labels"}
}

test_the_labels_are_parameters if {
	custom := {"requiredLabels": ["app"], "ownerLabels": ["squad"], "podTemplateLabels": ["app", "version"]}
	inp := object.union(workload("Deployment", {"app": "checkout", "squad": "payments"}, {"app": "checkout", "version": "1.2.0"}), {"parameters": custom})
	count(policy.violation) == 0 with input as inp
	v := policy.violation with input as object.union(workload("Deployment", good_labels, pod_labels), {"parameters": custom})
	{x.msg | some x in v} == {
		"Deployment \"checkout\" lacks the label app in metadata.labels: add it so that its metrics, logs and alerts are attributable to the application",
		"Deployment \"checkout\" names no owner in metadata.labels (one of squad): add the owning team, so that its alerts are routed to that team and escalated by its policy",
		"the pod template of Deployment \"checkout\" lacks the labels app, version: add them so that the metrics and logs of its pods are attributable to the application",
	}
	nothing := {"requiredLabels": [], "ownerLabels": [], "podTemplateLabels": []}
	count(policy.violation) == 0 with input as object.union(workload("Deployment", null, null), {"parameters": nothing})
}

test_controller_owned_workloads_are_skipped if {
	owned := object.union(workload("Job", {}, {}), {"review": {"object": {"metadata": {"ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "1", "controller": true}]}}}})
	count(violations(owned)) == 0
	not_controller := object.union(workload("Job", {}, {}), {"review": {"object": {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "1"}]}}}})
	count(violations(not_controller)) == 3
	malformed := object.union(workload("Job", {}, {}), {"review": {"object": {"metadata": {"ownerReferences": {"controller": true}}}}})
	count(violations(malformed)) == 3
}

test_deletes_are_let_through if {
	count(violations(object.union(workload("Deployment", {}, {}), {"review": {"operation": "DELETE", "object": null}}))) == 0
	finalizing := object.union(workload("Deployment", {}, {}), {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing)) == 0
	count(violations(object.union(workload("Deployment", {}, {}), {"review": {"operation": "UPDATE"}}))) == 3
}

test_a_numeric_name_still_reads if {
	inp := object.union(workload("Deployment", object.remove(good_labels, ["team"]), pod_labels), {"review": {"object": {"metadata": {"name": 7}}}})
	msgs(inp) == {"Deployment 7 names no owner in metadata.labels (one of team, owner, gatehouse.dev/team): add the owning team, so that its alerts are routed to that team and escalated by its policy"}
}
