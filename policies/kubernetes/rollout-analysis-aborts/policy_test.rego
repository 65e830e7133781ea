package gatehouse.kubernetes.rollout_analysis_aborts_test

import data.gatehouse.kubernetes.rollout_analysis_aborts

rollout(strategy) := {"review": {
	"kind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout"},
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "argoproj.io/v1alpha1",
		"kind": "Rollout",
		"metadata": {"name": "checkout", "namespace": "shop"},
		"spec": {"replicas": 3, "strategy": strategy},
	},
}}

canary(c) := rollout({"canary": c})

refs(names) := [{"templateName": n} | some n in names]

# A canary with an analysis step after the first setWeight.
with_step(names) := canary({"steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"analysis": {"templates": refs(names)}}]})

with_background(names) := canary({"analysis": {"templates": refs(names)}, "steps": [{"setWeight": 20}, {"pause": {"duration": "10m"}}]})

success_rate := {
	"name": "success-rate",
	"interval": "1m",
	"count": 5,
	"successCondition": "result[0] >= 0.95",
	"failureLimit": 3,
	"provider": {"prometheus": {"address": "http://prometheus.monitoring:9090", "query": "sum(rate(x[1m]))"}},
}

template(name, metrics) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "AnalysisTemplate",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"metrics": metrics},
}

templates_in(ns, list) := {"namespace": {ns: {"argoproj.io/v1alpha1": {"AnalysisTemplate": {t.metadata.name: t | some t in list}}}}}

good := templates_in("shop", [template("success-rate", [success_rate])])

metric_inventory(metric) := templates_in("shop", [template("success-rate", [metric])])

violations(inp, inv) := v if {
	v := rollout_analysis_aborts.violation with input as inp with data.inventory as inv
}

paths(inp, inv) := {x.path | some x in violations(inp, inv)}

step_ref := "/spec/strategy/canary/steps/2/analysis/templates/0/templateName"

test_a_step_or_background_analysis_with_a_failing_metric_passes if {
	count(violations(with_step(["success-rate"]), good)) == 0
	count(violations(with_background(["success-rate"]), good)) == 0
}

test_a_canary_without_analysis_is_reported if {
	v := violations(canary({"steps": [{"setWeight": 20}, {"pause": {}}]}), good)
	v == {{
		"msg": "Rollout \"checkout\" runs no analysis during its canary: nothing aborts a bad version automatically. Add a background analysis (spec.strategy.canary.analysis) or an analysis step that references an AnalysisTemplate",
		"path": "/spec/strategy/canary",
	}}
	paths(canary({}), good) == {"/spec/strategy/canary"}
	paths(canary({"analysis": {"templates": []}}), good) == {"/spec/strategy/canary"}
	paths(canary({"analysis": {"templates": null}, "steps": null}), good) == {"/spec/strategy/canary"}
	paths(canary({"steps": [{"analysis": {"templates": [{"templateName": null}, "success-rate"]}}]}), good) == {"/spec/strategy/canary"}
	paths(canary({"steps": [{"analysis": "success-rate"}, "analysis", null]}), good) == {"/spec/strategy/canary"}
}

test_other_strategies_are_left_alone if {
	count(violations(rollout({"blueGreen": {"activeService": "checkout"}}), {})) == 0
	count(violations(rollout(null), {})) == 0
	count(violations(rollout("canary"), {})) == 0
	count(violations(canary("steps"), {})) == 0
	count(violations(canary(null), {})) == 0
}

test_a_missing_template_is_reported_at_its_reference if {
	v := violations(with_step(["success-rate"]), {})
	v == {{
		"msg": "Rollout \"checkout\" references AnalysisTemplate \"success-rate\", which is not in namespace \"shop\": the analysis cannot run. Apply the template with the Rollout or fix the name",
		"path": step_ref,
	}}
	paths(with_step(["success-rate"]), templates_in("other", [template("success-rate", [success_rate])])) == {step_ref}
	paths(with_step(["error-rate"]), good) == {step_ref}
	paths(with_background(["success-rate", "latency"]), good) == {"/spec/strategy/canary/analysis/templates/1/templateName"}
}

cluster_ref := canary({"analysis": {"templates": [{"templateName": "success-rate", "clusterScope": true}]}, "steps": [{"setWeight": 10}]})

cluster_template(name, metrics) := object.union(template(name, metrics), {"kind": "ClusterAnalysisTemplate", "metadata": {"namespace": null}})

test_cluster_templates_are_looked_up_in_the_cluster if {
	in_cluster := {"cluster": {"argoproj.io/v1alpha1": {"ClusterAnalysisTemplate": {"success-rate": cluster_template("success-rate", [success_rate])}}}}
	count(violations(cluster_ref, in_cluster)) == 0
	filed_under_default := {"namespace": {"default": {"argoproj.io/v1alpha1": {"ClusterAnalysisTemplate": {"success-rate": cluster_template("success-rate", [success_rate])}}}}}
	count(violations(cluster_ref, filed_under_default)) == 1
	v := violations(cluster_ref, good)
	v == {{
		"msg": "Rollout \"checkout\" references ClusterAnalysisTemplate \"success-rate\", which is not in the cluster: the analysis cannot run. Apply the template with the Rollout or fix the name",
		"path": "/spec/strategy/canary/analysis/templates/0/templateName",
	}}
	paths(with_step(["success-rate"]), in_cluster) == {step_ref}
	elsewhere := {"namespace": {"shop": {"argoproj.io/v1alpha1": {"ClusterAnalysisTemplate": {"success-rate": cluster_template("success-rate", [success_rate])}}}}}
	paths(cluster_ref, elsewhere) == {"/spec/strategy/canary/analysis/templates/0/templateName"}
}

test_a_metric_without_condition_is_reported if {
	bare := object.remove(success_rate, ["successCondition"])
	v := violations(with_step(["success-rate"]), metric_inventory(bare))
	v == {{
		"msg": "Rollout \"checkout\" runs AnalysisTemplate \"success-rate\" whose metric \"success-rate\" has neither a successCondition nor a failureCondition, so none of its measurements ever fails: it cannot abort the rollout. Give it a successCondition or failureCondition and a failureLimit below its count",
		"path": step_ref,
	}}
	paths(with_step(["success-rate"]), metric_inventory(object.union(bare, {"successCondition": ""}))) == {step_ref}
	paths(with_step(["success-rate"]), metric_inventory(object.union(bare, {"failureCondition": "  "}))) == {step_ref}
	paths(with_step(["success-rate"]), metric_inventory(object.union(bare, {"successCondition": null}))) == {step_ref}
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(bare, {"failureCondition": "result[0] > 0.05"})))) == 0
}

test_job_and_kayenta_metrics_decide_by_themselves if {
	job := {"name": "smoke", "provider": {"job": {"spec": {"template": {"spec": {"containers": [{"name": "smoke", "image": "smoke:1"}], "restartPolicy": "Never"}}}}}}
	count(violations(with_step(["success-rate"]), metric_inventory(job))) == 0
	kayenta := {"name": "mann-whitney", "provider": {"kayenta": {"address": "https://kayenta.example", "thresholds": {"pass": 90, "marginal": 75}}}}
	count(violations(with_step(["success-rate"]), metric_inventory(kayenta))) == 0
	web := {"name": "web", "provider": {"web": {"url": "http://example/check"}}}
	paths(with_step(["success-rate"]), metric_inventory(web)) == {step_ref}
}

test_a_failure_limit_the_metric_never_reaches_is_reported if {
	v := violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"count": 3})))
	[x.msg | some x in v] == ["Rollout \"checkout\" runs AnalysisTemplate \"success-rate\" whose metric \"success-rate\" allows 3 failed measurements but takes only 3 (its count), so it can never fail: it cannot abort the rollout. Give it a successCondition or failureCondition and a failureLimit below its count"]
	single := object.remove(success_rate, ["count", "interval"])
	w := violations(with_step(["success-rate"]), metric_inventory(single))
	[x.msg | some x in w] == ["Rollout \"checkout\" runs AnalysisTemplate \"success-rate\" whose metric \"success-rate\" allows 3 failed measurements but takes only 1 (it sets neither count nor interval), so it can never fail: it cannot abort the rollout. Give it a successCondition or failureCondition and a failureLimit below its count"]
	paths(with_step(["success-rate"]), metric_inventory(object.union(single, {"count": 0}))) == {step_ref}
	paths(with_step(["success-rate"]), metric_inventory(object.union(single, {"interval": ""}))) == {step_ref}
	paths(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"count": "3", "failureLimit": "3"}))) == {step_ref}
}

test_a_negative_failure_limit_is_reported if {
	v := violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"failureLimit": -1, "consecutiveSuccessLimit": 3})))
	[x.msg | some x in v] == ["Rollout \"checkout\" runs AnalysisTemplate \"success-rate\" whose metric \"success-rate\" sets failureLimit -1, so failed measurements never fail the analysis: it cannot abort the rollout. Give it a successCondition or failureCondition and a failureLimit below its count"]
	paths(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"failureLimit": "-1"}))) == {step_ref}
}

test_failure_limits_that_can_be_reached_pass if {
	single := object.remove(success_rate, ["count", "interval", "failureLimit"])
	count(violations(with_step(["success-rate"]), metric_inventory(single))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(single, {"failureLimit": null})))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.remove(success_rate, ["count"])))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"count": 0})))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"count": "5"})))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"failureLimit": "{{args.failure-limit}}"})))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"count": "{{args.count}}", "failureLimit": 10})))) == 0
	count(violations(with_step(["success-rate"]), metric_inventory(object.union(success_rate, {"failureLimit": 0, "count": 1})))) == 0
}

test_dry_run_metrics_are_not_held_to_the_rule_but_cannot_be_all_there_is if {
	trial := {"name": "p99-latency", "provider": {"prometheus": {"query": "histogram_quantile(0.99, x)"}}}
	both := template("success-rate", [success_rate, trial])
	with_dry_run := object.union(both, {"spec": {"dryRun": [{"metricName": "latency$"}]}})
	count(violations(with_step(["success-rate"]), templates_in("shop", [with_dry_run]))) == 0
	paths(with_step(["success-rate"]), templates_in("shop", [both])) == {step_ref}
	all_dry := object.union(both, {"spec": {"dryRun": [{"metricName": ".*"}]}})
	v := violations(with_step(["success-rate"]), templates_in("shop", [all_dry]))
	v == {{
		"msg": "Rollout \"checkout\" runs analysis from AnalysisTemplate \"success-rate\", but every metric there runs in dryRun or there is none: no measurement can abort the rollout. Take at least one metric out of dryRun",
		"path": "/spec/strategy/canary",
	}}
	invalid_pattern := object.union(both, {"spec": {"dryRun": [{"metricName": "*"}, {"metricName": 1}, "x"]}})
	paths(with_step(["success-rate"]), templates_in("shop", [invalid_pattern])) == {step_ref}
	null_dry_run := object.union(both, {"spec": {"dryRun": null}})
	paths(with_step(["success-rate"]), templates_in("shop", [null_dry_run])) == {step_ref}
}

test_the_rollout_analysis_dry_run_applies_to_its_own_templates if {
	trial := {"name": "p99-latency", "provider": {"prometheus": {"query": "x"}}}
	inv := templates_in("shop", [template("success-rate", [success_rate]), template("latency", [trial])])
	step := {"analysis": {"templates": refs(["success-rate", "latency"]), "dryRun": [{"metricName": "p99-latency"}]}}
	count(violations(canary({"steps": [{"setWeight": 20}, step]}), inv)) == 0
	everything := {"analysis": {"templates": refs(["success-rate", "latency"]), "dryRun": [{"metricName": ".*"}]}}
	paths(canary({"steps": [{"setWeight": 20}, everything]}), inv) == {"/spec/strategy/canary"}
	# A dryRun of the background analysis does not cover an analysis step.
	background := {"templates": refs(["latency"]), "dryRun": [{"metricName": ".*"}]}
	paths(canary({"analysis": background, "steps": [{"setWeight": 20}, {"analysis": {"templates": refs(["latency"])}}]}), inv) == {"/spec/strategy/canary/steps/1/analysis/templates/0/templateName"}
}

test_templates_without_metrics_are_reported if {
	paths(with_step(["success-rate"]), templates_in("shop", [template("success-rate", [])])) == {"/spec/strategy/canary"}
	paths(with_step(["success-rate"]), templates_in("shop", [template("success-rate", null)])) == {"/spec/strategy/canary"}
	paths(with_step(["success-rate"]), templates_in("shop", [template("success-rate", ["success-rate", null])])) == {"/spec/strategy/canary"}
	paths(with_step(["success-rate"]), templates_in("shop", [object.union(template("success-rate", []), {"spec": "x"})])) == {"/spec/strategy/canary"}
}

test_one_gating_template_is_enough_for_the_dry_run_check if {
	inv := templates_in("shop", [template("success-rate", [success_rate]), template("empty", [])])
	count(violations(with_background(["success-rate", "empty"]), inv)) == 0
}

test_experiment_analyses_count if {
	experiment := {"experiment": {
		"duration": "30m",
		"templates": [{"name": "baseline", "specRef": "stable"}, {"name": "canary", "specRef": "canary"}],
		"analyses": [{"name": "compare", "templateName": "success-rate"}],
	}}
	count(violations(canary({"steps": [experiment, {"setWeight": 20}]}), good)) == 0
	paths(canary({"steps": [{"setWeight": 20}, experiment]}), {}) == {"/spec/strategy/canary/steps/1/experiment/analyses/0/templateName"}
	bare := object.remove(success_rate, ["successCondition"])
	paths(canary({"steps": [{"setWeight": 20}, experiment]}), metric_inventory(bare)) == {"/spec/strategy/canary/steps/1/experiment/analyses/0/templateName"}
	malformed := {"experiment": {"analyses": ["success-rate", {"templateName": 1}]}}
	paths(canary({"steps": [malformed]}), good) == {"/spec/strategy/canary"}
}

test_each_reference_is_reported_where_it_is if {
	bare := object.remove(success_rate, ["successCondition"])
	c := {"analysis": {"templates": refs(["success-rate"])}, "steps": [{"setWeight": 20}, {"analysis": {"templates": refs(["success-rate"])}}]}
	paths(canary(c), metric_inventory(bare)) == {
		"/spec/strategy/canary/analysis/templates/0/templateName",
		"/spec/strategy/canary/steps/1/analysis/templates/0/templateName",
	}
}

test_malformed_inventory_raises_nothing_but_a_missing_template if {
	paths(with_step(["success-rate"]), {"namespace": {"shop": {"argoproj.io/v1alpha1": {"AnalysisTemplate": {"success-rate": "x"}}}}}) == {step_ref}
	paths(with_step(["success-rate"]), {"namespace": {"shop": {"argoproj.io/v1alpha1": {"AnalysisTemplate": ["x"]}}}}) == {step_ref}
	paths(with_step(["success-rate"]), {"namespace": "x"}) == {step_ref}
}

test_a_name_that_is_not_a_string_does_not_break_the_message if {
	inp := object.union(with_step(["success-rate"]), {"review": {"object": {"metadata": {"name": 5}}}})
	v := violations(inp, {})
	[x.msg | some x in v] == ["Rollout 5 references AnalysisTemplate \"success-rate\", which is not in namespace \"shop\": the analysis cannot run. Apply the template with the Rollout or fix the name"]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	old := canary({}).review.object
	deletion := {"review": {"kind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout"}, "namespace": "shop", "operation": "DELETE", "object": null, "oldObject": old}}
	count(violations(deletion, {})) == 0
	deleting := object.union(canary({}), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(deleting, {})) == 0
}
