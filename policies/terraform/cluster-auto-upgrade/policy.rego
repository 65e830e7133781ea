# A Kapsule cluster takes Kubernetes patch releases automatically, in a declared maintenance window.
package gatehouse.terraform.cluster_auto_upgrade

import data.gatehouse.lib.terraform as tf

days := {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "any"}

violation contains {"msg": tf.explain(["auto_upgrade"], msg), "path": "/auto_upgrade"} if {
	input.resource.type == "scaleway_k8s_cluster"
	tf.unknown(["auto_upgrade"])
	msg := "the cluster needs auto_upgrade { enable = true } with a maintenance window"
}

violation contains {"msg": msg, "path": "/auto_upgrade"} if {
	input.resource.type == "scaleway_k8s_cluster"
	count(tf.blocks(["auto_upgrade"])) == 0
	msg := "the cluster has no auto_upgrade block: patch releases wait for a manual upgrade, or for the forced one at the version's end of life; add auto_upgrade { enable = true, maintenance_window_start_hour, maintenance_window_day }"
}

violation contains {"msg": msg, "path": "/auto_upgrade"} if {
	input.resource.type == "scaleway_k8s_cluster"
	v := tf.value(["auto_upgrade"])
	v != null
	not is_array(v)
	msg := sprintf("auto_upgrade is %v, not a block", [v])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_cluster"
	some i, _ in tf.blocks(["auto_upgrade"])
	path := ["auto_upgrade", i, "enable"]
	not tf.is_true(path)
	msg := sprintf("auto_upgrade.enable is %s: patch releases are not applied automatically", [text(path)])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_cluster"
	some i, _ in tf.blocks(["auto_upgrade"])
	path := ["auto_upgrade", i, "maintenance_window_start_hour"]
	not hour(tf.value(path))
	msg := sprintf("maintenance_window_start_hour is %s, not an hour from 0 to 23 (UTC): the upgrades have no declared window", [text(path)])
}

violation contains {"msg": tf.explain(path, msg), "path": tf.pointer(path)} if {
	input.resource.type == "scaleway_k8s_cluster"
	some i, _ in tf.blocks(["auto_upgrade"])
	path := ["auto_upgrade", i, "maintenance_window_day"]
	not tf.value(path) in days
	msg := sprintf("maintenance_window_day is %s, not a day (monday to sunday, or any): the upgrades have no declared window", [text(path)])
}

hour(v) if {
	is_number(v)
	v == floor(v)
	v >= 0
	v <= 23
}

text(path) := "not set" if {
	tf.value(path) == null
} else := sprintf("%q", [v]) if {
	v := tf.value(path)
	is_string(v)
} else := sprintf("%v", [v]) if {
	v := tf.value(path)
} else := "unknown"
