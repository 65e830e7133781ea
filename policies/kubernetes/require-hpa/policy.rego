package gatehouse.kubernetes.require_hpa

# A Deployment or StatefulSet that runs two or more replicas, or that an autoscaler already
# scales, is scaled on CPU utilization by an autoscaling/v2 HorizontalPodAutoscaler of its
# namespace whose minReplicas reaches the minimum. A workload labelled for scale-to-zero is
# scaled by a KEDA ScaledObject instead (KEDA makes and owns the HPA). Autoscalers come from
# data.inventory, found through the inventory index in the workload's own namespace.

# A DELETE, and an update to an object that is already being deleted, are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

# The workload carries the scale-to-zero label (parameter scaleToZeroLabel) set to "true".
scale_to_zero if {
	labels := input.review.object.metadata.labels
	is_object(labels)
	labels[input.parameters.scaleToZeroLabel] == "true"
}

# The workload declares two or more replicas. Otherwise it is in scope only when an autoscaler
# scales it or its label says it scales to zero, which the violations below require anyway; a
# single replica without any autoscaler is min-replicas' concern.
multi_replica if {
	r := input.review.object.spec.replicas
	is_number(r)
	r >= 2
}

# The HorizontalPodAutoscalers of the workload's namespace that scale it (lib targeting_hpas),
# leaving out those a KEDA ScaledObject made and owns: they stand for the ScaledObject, which is
# judged as such, as it is in CI where only the ScaledObject is in the manifests.
hpas := {hpa |
	some hpa in data.gatehouse.lib.kubernetes.targeting_hpas
	not keda_owned(hpa)
}

keda_owned(hpa) if {
	owners := hpa.metadata.ownerReferences
	is_array(owners)
	some owner in owners
	owner.kind == "ScaledObject"
	is_string(owner.apiVersion)
	startswith(owner.apiVersion, "keda.sh/")
}

# KEDA ScaledObjects of the workload's namespace whose spec.scaleTargetRef names it (the kind
# defaults to Deployment), through the inventory index.
scaled_objects contains so if {
	ns := data.gatehouse.lib.kubernetes.namespace
	targets := data.inventory_index.namespace[ns].scaleTargets[input.review.kind.kind][data.gatehouse.lib.kubernetes.name]
	is_object(targets)
	some ref in targets
	ref.kind == "ScaledObject"
	so := data.inventory.namespace[ns][ref.apiVersion].ScaledObject[ref.name]
}

# Without an index (unit tests that build data.inventory by hand) the ScaledObjects are scanned.
# The engine always provides the index.
scaled_objects contains so if {
	not data.inventory_index
	objects := data.inventory.namespace[data.gatehouse.lib.kubernetes.namespace]["keda.sh/v1alpha1"].ScaledObject
	is_object(objects)
	some so in objects
	ref := so.spec.scaleTargetRef
	is_object(ref)
	target_kind(ref) == input.review.kind.kind
	ref.name == data.gatehouse.lib.kubernetes.name
}

target_kind(ref) := k if {
	k := ref.kind
	is_string(k)
} else := "Deployment"

# minReplicas of a HorizontalPodAutoscaler: unset or null means 1.
hpa_minimum(hpa) := m if {
	m := hpa.spec.minReplicas
	m != null
} else := 1

# The autoscaler scales on CPU utilization: a Resource or ContainerResource metric on cpu with
# a Utilization target. An autoscaling/v2 HPA without metrics (absent, null or empty) is
# defaulted by the API server to 80% CPU utilization.
scales_on_cpu(hpa) if object.get(hpa, ["spec", "metrics"], null) in {null, []}

scales_on_cpu(hpa) if {
	metrics := hpa.spec.metrics
	is_array(metrics)
	some metric in metrics
	cpu_utilization(metric)
}

cpu_utilization(metric) if {
	metric.type == "Resource"
	metric.resource.name == "cpu"
	metric.resource.target.type == "Utilization"
}

cpu_utilization(metric) if {
	metric.type == "ContainerResource"
	metric.containerResource.name == "cpu"
	metric.containerResource.target.type == "Utilization"
}

high_enough(hpa) if {
	m := hpa_minimum(hpa)
	is_number(m)
	m >= input.parameters.minReplicas
}

# Some autoscaler does all that is asked.
fitting_hpa if {
	some hpa in hpas
	hpa.apiVersion == "autoscaling/v2"
	scales_on_cpu(hpa)
	high_enough(hpa)
}

# Why an autoscaler that scales the workload does not do, one check at a time.
checks := ["version", "cpu", "floor"]

shortfall("version", hpa) := sprintf("is %v, not autoscaling/v2: write it as autoscaling/v2 with a Resource metric on cpu (target type Utilization)", [object.get(hpa, "apiVersion", "of no apiVersion")]) if {
	object.get(hpa, "apiVersion", null) != "autoscaling/v2"
}

shortfall("cpu", hpa) := "scales on no CPU utilization metric: add a Resource metric on cpu with target type Utilization (such as averageUtilization: 70)" if {
	hpa.apiVersion == "autoscaling/v2"
	not scales_on_cpu(hpa)
}

shortfall("floor", hpa) := sprintf("sets no minReplicas, so it scales down to 1 replica, below the minimum of %v", [input.parameters.minReplicas]) if {
	object.get(hpa, ["spec", "minReplicas"], null) == null
	not high_enough(hpa)
} else := sprintf("has minReplicas %v, below the minimum of %v", [hpa.spec.minReplicas, input.parameters.minReplicas]) if {
	is_number(hpa.spec.minReplicas)
	not high_enough(hpa)
} else := sprintf("has minReplicas %s, which is not a number (the minimum is %v)", [json.marshal(hpa.spec.minReplicas), input.parameters.minReplicas]) if {
	not high_enough(hpa)
}

replicas_path := "/spec/replicas" if {
	_ = input.review.object.spec.replicas
} else := "/spec"

# No HorizontalPodAutoscaler and no ScaledObject scales the workload.
violation contains {"msg": msg, "path": path} if {
	checked
	not scale_to_zero
	multi_replica
	count(hpas) == 0
	count(scaled_objects) == 0
	path := replicas_path
	msg := sprintf("%s %s runs %v replicas but no HorizontalPodAutoscaler in namespace %q scales it: add an autoscaling/v2 HPA with minReplicas of at least %v and a Resource metric on cpu (target type Utilization)", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		input.review.object.spec.replicas,
		data.gatehouse.lib.kubernetes.namespace,
		input.parameters.minReplicas,
	])
}

# A KEDA ScaledObject scales a workload that is not labelled for scale-to-zero.
violation contains {"msg": msg, "path": path} if {
	checked
	not scale_to_zero
	count(hpas) == 0
	some so in scaled_objects
	path := "/metadata/labels"
	msg := sprintf("%s %s is scaled by KEDA ScaledObject %s but is not labelled %s=true: label it if it scales to zero, or else scale it with an autoscaling/v2 HorizontalPodAutoscaler on CPU utilization", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		quoted(object.get(so, ["metadata", "name"], "")),
		input.parameters.scaleToZeroLabel,
	])
}

# HorizontalPodAutoscalers scale the workload, but none on CPU with a high enough floor.
violation contains {"msg": msg, "path": path} if {
	checked
	not scale_to_zero
	not fitting_hpa
	some hpa in hpas
	some check in checks
	reason := shortfall(check, hpa)
	path := replicas_path
	msg := sprintf("%s %s is scaled by HorizontalPodAutoscaler %s, which %s", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		quoted(object.get(hpa, ["metadata", "name"], "")),
		reason,
	])
}

# A workload labelled for scale-to-zero that no KEDA ScaledObject scales.
violation contains {"msg": msg, "path": path} if {
	checked
	scale_to_zero
	count(scaled_objects) == 0
	path := concat("/", ["/metadata/labels", replace(replace(input.parameters.scaleToZeroLabel, "~", "~0"), "/", "~1")])
	msg := sprintf("%s %s is labelled %s=true but no KEDA ScaledObject (keda.sh/v1alpha1) in namespace %q scales it: add one whose spec.scaleTargetRef names it, or remove the label and scale it with an autoscaling/v2 HorizontalPodAutoscaler on CPU utilization", [
		data.gatehouse.lib.kubernetes.kind,
		quoted(data.gatehouse.lib.kubernetes.name),
		input.parameters.scaleToZeroLabel,
		data.gatehouse.lib.kubernetes.namespace,
	])
}

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
