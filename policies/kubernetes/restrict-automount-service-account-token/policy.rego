package gatehouse.kubernetes.restrict_automount_service_account_token

# The pod spec of every workload kind turns off the ServiceAccount token mount, unless the
# workload declares that it calls the Kubernetes API (parameter apiAccessAnnotation), or leaves
# the field unset under a ServiceAccount of its namespace that turns it off.

# The workload declares API access on its own metadata or on its pod template's.
declares_api_access if api_access_annotated(input.review.object.metadata)

declares_api_access if api_access_annotated(pod_metadata)

api_access_annotated(metadata) if metadata.annotations[input.parameters.apiAccessAnnotation] == "true"

pod_metadata := input.review.object.spec.template.metadata if {
	data.gatehouse.lib.kubernetes.template_kinds[input.review.kind.kind]
}

pod_metadata := input.review.object.spec.jobTemplate.spec.template.metadata if {
	input.review.kind.kind == "CronJob"
}

# The ServiceAccount the pods run as: serviceAccountName, else the deprecated serviceAccount,
# else "default", as the API server fills it in.
service_account_name(pod_spec) := n if {
	n := pod_spec.serviceAccountName
	is_string(n)
	n != ""
} else := n if {
	n := pod_spec.serviceAccount
	is_string(n)
	n != ""
} else := "default"

# The pod leaves the field unset and its ServiceAccount, in the workload's own namespace, turns
# the mount off. A pod that sets the field decides for itself.
service_account_opts_out(pod_spec) if {
	object.get(pod_spec, "automountServiceAccountToken", null) == null
	ns := data.gatehouse.lib.kubernetes.namespace
	account := data.inventory.namespace[ns].v1.ServiceAccount[service_account_name(pod_spec)]
	account.automountServiceAccountToken == false
}

violation contains {"msg": msg, "path": path} if {
	pod_spec := data.gatehouse.lib.kubernetes.pod_spec
	is_object(pod_spec)
	not pod_spec.automountServiceAccountToken == false
	not declares_api_access
	not service_account_opts_out(pod_spec)
	not data.gatehouse.lib.kubernetes.deleting
	path := concat("/", [data.gatehouse.lib.kubernetes.pod_spec_path, "automountServiceAccountToken"])
	msg := message(pod_spec)
}

workload_text := sprintf("%s %s", [data.gatehouse.lib.kubernetes.kind, quoted(data.gatehouse.lib.kubernetes.name)])

message(pod_spec) := sprintf(
	"%s mounts the API token of ServiceAccount %s in its pods: automountServiceAccountToken is unset in the pod spec, and not false on that ServiceAccount in namespace %q. Set it to false in either, or annotate the workload %s: \"true\" if it calls the Kubernetes API",
	[workload_text, quoted(service_account_name(pod_spec)), data.gatehouse.lib.kubernetes.namespace, annotation_name],
) if {
	object.get(pod_spec, "automountServiceAccountToken", null) == null
} else := sprintf(
	"%s sets automountServiceAccountToken to %s but does not declare that it calls the Kubernetes API: set it to false, or annotate the workload %s: \"true\"",
	[workload_text, json.marshal(pod_spec.automountServiceAccountToken), annotation_name],
)

annotation_name := n if {
	n := input.parameters.apiAccessAnnotation
	is_string(n)
} else := "gatehouse.dev/needs-kubernetes-api"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
