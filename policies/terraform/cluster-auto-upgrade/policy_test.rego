package gatehouse.terraform.cluster_auto_upgrade_test

import data.gatehouse.terraform.cluster_auto_upgrade as p

only(v) := x if {
	count(v) == 1
	some x in v
}

cluster(after, unknown) := {"resource": {
	"address": "scaleway_k8s_cluster.main", "type": "scaleway_k8s_cluster", "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}}

upgrade(block) := cluster({"name": "gh", "auto_upgrade": [block]}, {})

good := {"enable": true, "maintenance_window_start_hour": 3, "maintenance_window_day": "sunday"}

test_enabled_auto_upgrade_with_a_window_passes if {
	count(p.violation) == 0 with input as upgrade(good)
	count(p.violation) == 0 with input as upgrade(object.union(good, {"maintenance_window_day": "any", "maintenance_window_start_hour": 0}))
	count(p.violation) == 0 with input as upgrade(object.union(good, {"maintenance_window_start_hour": 23}))
}

test_missing_block_fails_at_the_block if {
	x := only(p.violation) with input as cluster({"name": "gh"}, {})
	x.path == "/auto_upgrade"
	startswith(x.msg, "the cluster has no auto_upgrade block")
	y := only(p.violation) with input as cluster({"auto_upgrade": []}, {})
	y.path == "/auto_upgrade"
}

test_disabled_auto_upgrade_fails_at_enable if {
	x := only(p.violation) with input as upgrade(object.union(good, {"enable": false}))
	x.path == "/auto_upgrade/0/enable"
	x.msg == "auto_upgrade.enable is false: patch releases are not applied automatically"
	y := only(p.violation) with input as upgrade({"maintenance_window_start_hour": 3, "maintenance_window_day": "sunday"})
	y.msg == "auto_upgrade.enable is not set: patch releases are not applied automatically"
}

test_missing_or_invalid_window_fails if {
	x := only(p.violation) with input as upgrade({"enable": true, "maintenance_window_day": "sunday"})
	x.path == "/auto_upgrade/0/maintenance_window_start_hour"
	x.msg == "maintenance_window_start_hour is not set, not an hour from 0 to 23 (UTC): the upgrades have no declared window"
	y := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_start_hour": 24}))
	y.path == "/auto_upgrade/0/maintenance_window_start_hour"
	z := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_start_hour": -1}))
	z.path == "/auto_upgrade/0/maintenance_window_start_hour"
	w := only(p.violation) with input as upgrade({"enable": true, "maintenance_window_start_hour": 3})
	w.path == "/auto_upgrade/0/maintenance_window_day"
	v := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_day": "Sunday"}))
	v.msg == "maintenance_window_day is \"Sunday\", not a day (monday to sunday, or any): the upgrades have no declared window"
}

test_wrong_types_fail_without_error if {
	x := only(p.violation) with input as upgrade(object.union(good, {"enable": "true"}))
	x.msg == "auto_upgrade.enable is \"true\": patch releases are not applied automatically"
	y := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_start_hour": "3"}))
	y.path == "/auto_upgrade/0/maintenance_window_start_hour"
	z := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_start_hour": 3.5}))
	z.path == "/auto_upgrade/0/maintenance_window_start_hour"
	w := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_day": 7}))
	w.path == "/auto_upgrade/0/maintenance_window_day"
	v := only(p.violation) with input as cluster({"auto_upgrade": "on"}, {})
	v.msg == "auto_upgrade is on, not a block"
	u := only(p.violation) with input as cluster({"auto_upgrade": ["on"]}, {})
	u.path == "/auto_upgrade"
}

test_unknown_values_fail if {
	x := only(p.violation) with input as cluster({"auto_upgrade": null}, {"auto_upgrade": true})
	x.path == "/auto_upgrade"
	x.msg == "auto_upgrade is known only after apply, so it cannot be checked: the cluster needs auto_upgrade { enable = true } with a maintenance window"
	y := only(p.violation) with input as upgrade(object.union(good, {"enable": null}))
		with input.resource.change.after_unknown as {"auto_upgrade": [{"enable": true}]}
	y.path == "/auto_upgrade/0/enable"
	contains(y.msg, "known only after apply")
	z := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_start_hour": null}))
		with input.resource.change.after_unknown as {"auto_upgrade": [{"maintenance_window_start_hour": true}]}
	z.path == "/auto_upgrade/0/maintenance_window_start_hour"
	w := only(p.violation) with input as upgrade(object.union(good, {"maintenance_window_day": null}))
		with input.resource.change.after_unknown as {"auto_upgrade": [{"maintenance_window_day": true}]}
	w.path == "/auto_upgrade/0/maintenance_window_day"
	contains(w.msg, "auto_upgrade.0.maintenance_window_day is known only after apply")
}

test_other_resource_types_are_ignored if {
	count(p.violation) == 0 with input as {"resource": {"type": "aws_eks_cluster", "change": {"after": {}}}}
}
