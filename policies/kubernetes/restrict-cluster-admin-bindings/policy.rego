package gatehouse.kubernetes.restrict_cluster_admin_bindings

# A binding to the ClusterRole cluster-admin names only the subjects of allowedSubjects.

# The API server's bootstrap bindings are named system:... (its "cluster-admin" binding names
# only the system:masters group, allowed by default).
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

allowed(subject) if {
	entries := input.parameters.allowedSubjects
	is_array(entries)
	some entry in entries
	entry.kind == subject.kind
	entry.name == subject.name
	namespace_matches(entry, subject)
}

namespace_matches(entry, _) if object.get(entry, "namespace", null) in {null, ""}

namespace_matches(entry, subject) if {
	subject.kind == "ServiceAccount"
	entry.namespace == subject_namespace(subject)
}

violation contains {"msg": msg, "path": path} if {
	binding := input.review.object
	binding.roleRef.kind == "ClusterRole"
	binding.roleRef.name == "cluster-admin"
	subjects := binding.subjects
	is_array(subjects)
	some i, subject in subjects
	is_object(subject)
	not allowed(subject)
	not exempt
	not data.gatehouse.lib.kubernetes.deleting
	path := sprintf("/subjects/%d", [i])
	msg := sprintf(
		"%s %s grants cluster-admin to %s: bind a narrower ClusterRole, or add the subject to allowedSubjects if it must administer the cluster",
		[input.review.kind.kind, quoted(data.gatehouse.lib.kubernetes.name), subject_text(subject)],
	)
}

subject_text(subject) := sprintf("ServiceAccount %q", [concat("/", [subject_namespace(subject), subject.name])]) if {
	subject.kind == "ServiceAccount"
	is_string(subject.name)
	is_string(subject_namespace(subject))
} else := sprintf("%s %s", [kind_text(subject), quoted(object.get(subject, "name", null))])

kind_text(subject) := k if {
	k := subject.kind
	is_string(k)
} else := "subject"

# sprintf's %q refuses anything but a string: a name written as a YAML number still reads.
quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
