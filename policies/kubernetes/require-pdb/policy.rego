package gatehouse.kubernetes.require_pdb

# A multi-replica workload needs a PodDisruptionBudget (policy/v1) in its namespace that selects
# its pods, and that budget must let at least one pod go, or node drains and upgrades stall.
# Budgets come from data.inventory, looked up in the workload's own namespace only.

# A key that is present counts as set, whatever its value.
has_key(obj, key) if _ = obj[key]

# The fewest replicas the workload runs, when that is two or more: spec.replicas, or the
# minReplicas of an HPA in the inventory that scales it (lib min_replicas).
replicas := n if {
	n := data.gatehouse.lib.kubernetes.min_replicas
	is_number(n)
	n >= 2
}

# Labels of the pods the workload runs; a missing or malformed label map counts as no labels.
pod_labels := labels if {
	labels := data.gatehouse.lib.kubernetes.pod_labels
	is_object(labels)
} else := {}

# The budgets of the workload's namespace that select its pods, by name. Only looked up for a
# multi-replica workload, and only among the candidates the inventory index gives: the cost
# follows the budgets that may match, not the size of the namespace.
selecting_pdbs[name] := pdb if {
	replicas
	budgets := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["policy/v1"].PodDisruptionBudget
	some name in data.gatehouse.lib.kubernetes.selector_candidates("policy/v1", "PodDisruptionBudget")
	pdb := budgets[name]
	selects(pdb, pod_labels)
}

# policy/v1 semantics: a null or absent selector selects no pod; an empty one ({}) selects every
# pod of the namespace. A selector the API server would refuse selects nothing either.
selects(pdb, labels) if data.gatehouse.lib.kubernetes.selector_matches(pdb.spec.selector, labels)

# A percentage as the API server accepts it ("25%"), as a number.
percent(s) := to_number(trim_suffix(s, "%")) if {
	is_string(s)
	regex.match(`^[0-9]+%$`, s)
}

# The budget allows no voluntary disruption of a workload running `n` replicas. The disruption
# controller rounds percentages up, so minAvailable "60%" of 2 replicas already means 2.
# maxUnavailable, when set, takes precedence over minAvailable.
blocks(spec, _) if spec.maxUnavailable == 0

blocks(spec, _) if percent(spec.maxUnavailable) == 0

blocks(spec, n) if {
	not has_key(spec, "maxUnavailable")
	m := spec.minAvailable
	is_number(m)
	m >= n
}

# ceil(p * n / 100) >= n, in integers.
blocks(spec, n) if {
	not has_key(spec, "maxUnavailable")
	p := percent(spec.minAvailable)
	p * n > 100 * (n - 1)
}

budget_text(spec) := sprintf("maxUnavailable %v", [spec.maxUnavailable]) if has_key(spec, "maxUnavailable")

budget_text(spec) := sprintf("minAvailable %v", [spec.minAvailable]) if not has_key(spec, "maxUnavailable")

replicas_path := "/spec/replicas" if {
	has_key(data.gatehouse.lib.kubernetes.resource.spec, "replicas")
} else := "/spec"

workload_text := sprintf("%s %q", [data.gatehouse.lib.kubernetes.kind, data.gatehouse.lib.kubernetes.name])

# No budget selects the pods.
violation contains {"msg": msg, "path": path} if {
	n := replicas
	count(selecting_pdbs) == 0
	path := replicas_path
	msg := sprintf(
		"%s runs at least %v replicas but no PodDisruptionBudget (policy/v1) in namespace %q selects its pods: node drains and upgrades may take them all down at once",
		[workload_text, n, data.gatehouse.lib.kubernetes.namespace],
	)
}

# A budget selects the pods but allows no voluntary disruption.
violation contains {"msg": msg, "path": path} if {
	n := replicas
	some name, pdb in selecting_pdbs
	spec := pdb.spec
	is_object(spec)
	blocks(spec, n)
	path := replicas_path
	msg := sprintf(
		"PodDisruptionBudget %q selects the pods of %s but allows no voluntary disruption (%s with %v replicas): it blocks node drains and cluster upgrades",
		[name, workload_text, budget_text(spec), n],
	)
}

# Several budgets select the pods: the eviction API refuses to evict a pod that more than one
# PodDisruptionBudget selects, whatever the budgets allow, so drains block on these pods.
violation contains {"msg": msg, "path": path} if {
	replicas
	count(selecting_pdbs) > 1
	path := replicas_path
	names := concat(", ", [sprintf("%q", [name]) | some name, _ in selecting_pdbs])
	msg := sprintf(
		"PodDisruptionBudgets %s all select the pods of %s: the eviction API refuses to evict a pod that more than one budget selects, so node drains and upgrades block on them",
		[names, workload_text],
	)
}
