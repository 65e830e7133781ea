package gatehouse.kubernetes.no_default_service_account_binding

# A binding must not grant its role to the "default" ServiceAccount, directly or through a
# group that contains it.

exempt if {
	name := input.review.object.metadata.name
	is_string(name)
	startswith(name, "system:")
}

# The namespace a ServiceAccount subject lives in: its own, else the RoleBinding's.
subject_namespace(subject) := ns if {
	ns := subject.namespace
	is_string(ns)
	ns != ""
} else := data.gatehouse.lib.kubernetes.namespace if input.review.kind.kind == "RoleBinding"

violation contains {"msg": msg, "path": path} if {
	subjects := input.review.object.subjects
	is_array(subjects)
	some i, subject in subjects
	subject.kind == "ServiceAccount"
	subject.name == "default"
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	path := sprintf("/subjects/%d", [i])
	msg := sprintf(
		"%s %s grants %s to the default ServiceAccount%s, which every pod that names no ServiceAccount runs as: bind a dedicated ServiceAccount and set it as the workload's serviceAccountName",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), role_text, namespace_text(subject)],
	)
}

# Groups holding every ServiceAccount of the cluster, or of one namespace.
violation contains {"msg": msg, "path": path} if {
	subjects := input.review.object.subjects
	is_array(subjects)
	some i, subject in subjects
	subject.kind == "Group"
	name := subject.name
	is_string(name)
	service_account_group(name)
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	path := sprintf("/subjects/%d", [i])
	msg := sprintf(
		"%s %s grants %s to group %q, which includes the default ServiceAccount that every pod naming no ServiceAccount runs as: bind a dedicated ServiceAccount instead",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), role_text, name],
	)
}

service_account_group(name) if name == "system:serviceaccounts"

service_account_group(name) if startswith(name, "system:serviceaccounts:")

namespace_text(subject) := sprintf(" of namespace %q", [ns]) if {
	ns := subject_namespace(subject)
	is_string(ns)
} else := ""

role_text := sprintf("%s %s", [ref.kind, quoted(ref.name)]) if {
	ref := input.review.object.roleRef
	is_string(ref.kind)
	ref.name
} else := "its role"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
