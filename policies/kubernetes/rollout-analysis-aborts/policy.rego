package gatehouse.kubernetes.rollout_analysis_aborts

# A canary Rollout runs an analysis whose templates exist and whose metrics can fail it (and so
# abort the rollout). Templates come from data.inventory: AnalysisTemplates in the Rollout's
# namespace, ClusterAnalysisTemplates among the cluster-scoped objects.

canary := c if {
	not data.gatehouse.lib.kubernetes.deleting
	c := input.review.object.spec.strategy.canary
	is_object(c)
}

# The analyses of the canary, each with its place under /spec/strategy/canary: the background
# analysis and the analysis steps.
analyses contains {"at": ["analysis"], "analysis": analysis} if {
	analysis := canary.analysis
	is_object(analysis)
}

analyses contains {"at": ["steps", i, "analysis"], "analysis": analysis} if {
	steps := canary.steps
	is_array(steps)
	some i, step in steps
	analysis := step.analysis
	is_object(analysis)
}

# The template references: where the templateName is, the name, whether it is a
# ClusterAnalysisTemplate, and the dryRun list of the analysis it belongs to.
refs contains {"at": at, "name": name, "cluster": cluster_scope(t), "dry_run": object.get(block.analysis, "dryRun", null)} if {
	some block in analyses
	templates := block.analysis.templates
	is_array(templates)
	some k, t in templates
	name := t.templateName
	is_string(name)
	at := array.concat(block.at, ["templates", k, "templateName"])
}

# An experiment step's analyses reference one template each.
refs contains {"at": ["steps", i, "experiment", "analyses", j, "templateName"], "name": name, "cluster": cluster_scope(a), "dry_run": object.get(experiment, "dryRun", null)} if {
	steps := canary.steps
	is_array(steps)
	some i, step in steps
	experiment := step.experiment
	is_object(experiment)
	list := experiment.analyses
	is_array(list)
	some j, a in list
	name := a.templateName
	is_string(name)
}

cluster_scope(ref) := true if ref.clusterScope == true

cluster_scope(ref) := false if not ref.clusterScope == true

template(ref) := t if {
	not ref.cluster
	t := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["argoproj.io/v1alpha1"].AnalysisTemplate[ref.name]
	is_object(t)
}

template(ref) := t if {
	ref.cluster
	t := cluster_template(ref.name)
}

cluster_template(name) := t if {
	t := data.inventory.cluster["argoproj.io/v1alpha1"].ClusterAnalysisTemplate[name]
	is_object(t)
}

missing contains ref if {
	some ref in refs
	not template(ref)
}

# The metrics that count: those of a referenced template that are not in dryRun.
gating contains {"ref": ref, "template": t, "metric": metric} if {
	some ref in refs
	t := template(ref)
	metrics := t.spec.metrics
	is_array(metrics)
	some metric in metrics
	is_object(metric)
	not dry_run(metric.name, ref.dry_run)
	not dry_run(metric.name, t.spec.dryRun)
}

# Argo matches dryRun metricName as an unanchored regular expression.
dry_run(name, entries) if {
	is_string(name)
	is_array(entries)
	some entry in entries
	pattern := entry.metricName
	is_string(pattern)
	regex.is_valid(pattern)
	regex.match(pattern, name)
}

# A metric decides a measurement's outcome: by a condition, or by itself for a job (its exit
# status) or kayenta (its score thresholds).
decides(metric) if non_empty(metric.successCondition)

decides(metric) if non_empty(metric.failureCondition)

decides(metric) if is_object(metric.provider.job)

decides(metric) if is_object(metric.provider.kayenta)

non_empty(s) if {
	is_string(s)
	trim_space(s) != ""
}

# failureLimit and count are int-or-string: a numeric string is read as a number, a template
# argument ("{{args.limit}}") is unknown. failureLimit defaults to 0.
integer(v) := v if is_number(v)

integer(v) := to_number(v) if {
	is_string(v)
	regex.match(`^-?[0-9]+$`, v)
}

failure_limit(metric) := n if {
	n := integer(metric.failureLimit)
} else := 0 if object.get(metric, "failureLimit", null) == null

# The measurements a metric takes: its count (0 or unset means none given), else one when it
# has no interval, else no end.
measurements(metric) := n if {
	n := integer(metric.count)
	n > 0
} else := 1 if {
	object.get(metric, "count", null) in {null, 0}
	object.get(metric, "interval", null) in {null, ""}
}

# Why a metric can never fail the analysis; undefined when it can.
cannot_fail(metric) := "has neither a successCondition nor a failureCondition, so none of its measurements ever fails" if {
	not decides(metric)
} else := sprintf("sets failureLimit %v, so failed measurements never fail the analysis", [metric.failureLimit]) if {
	failure_limit(metric) < 0
} else := sprintf("allows %v failed measurements but takes only %s, so it can never fail", [limit, measurements_text(metric, n)]) if {
	limit := failure_limit(metric)
	n := measurements(metric)
	limit >= n
}

violation contains {"msg": msg, "path": "/spec/strategy/canary"} if {
	canary
	count(refs) == 0
	msg := sprintf("Rollout %s runs no analysis during its canary: nothing aborts a bad version automatically. Add a background analysis (spec.strategy.canary.analysis) or an analysis step that references an AnalysisTemplate", [rollout_name])
}

violation contains {"msg": msg, "path": path} if {
	some ref in missing
	path := pointer(ref.at)
	msg := sprintf("Rollout %s references %s, which is not %s: the analysis cannot run. Apply the template with the Rollout or fix the name", [rollout_name, template_text(ref), where_text(ref)])
}

violation contains {"msg": msg, "path": path} if {
	some g in gating
	reason := cannot_fail(g.metric)
	path := pointer(g.ref.at)
	msg := sprintf("Rollout %s runs %s whose metric %s %s: it cannot abort the rollout. Give it a successCondition or failureCondition and a failureLimit below its count", [rollout_name, template_text(g.ref), quoted(g.metric.name), reason])
}

violation contains {"msg": msg, "path": "/spec/strategy/canary"} if {
	canary
	count(refs) > 0
	count(missing) == 0
	count(gating) == 0
	names := concat(", ", sort({template_text(ref) | some ref in refs}))
	msg := sprintf("Rollout %s runs analysis from %s, but every metric there runs in dryRun or there is none: no measurement can abort the rollout. Take at least one metric out of dryRun", [rollout_name, names])
}

# Message fragments, computed only for a violation.

rollout_name := quoted(data.gatehouse.lib.kubernetes.name)

pointer(at) := concat("/", array.concat(["/spec/strategy/canary"], [segment(s) | some s in at]))

segment(s) := format_int(s, 10) if is_number(s)

segment(s) := s if is_string(s)

measurements_text(metric, n) := sprintf("%v (its count)", [n]) if {
	integer(metric.count) > 0
} else := "1 (it sets neither count nor interval)"

template_text(ref) := sprintf("ClusterAnalysisTemplate %q", [ref.name]) if ref.cluster

template_text(ref) := sprintf("AnalysisTemplate %q", [ref.name]) if not ref.cluster

where_text(ref) := "in the cluster" if ref.cluster

where_text(ref) := sprintf("in namespace %q", [data.gatehouse.lib.kubernetes.namespace]) if not ref.cluster

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
