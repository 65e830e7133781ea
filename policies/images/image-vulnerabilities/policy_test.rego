package gatehouse.images.image_vulnerabilities_test

import data.gatehouse.images.image_vulnerabilities as images

# Entries as trivy writes them (trivy image --format json, SchemaVersion 2).
vulnerability(id, severity, pkg, installed, fixed) := object.union(
	{
		"VulnerabilityID": id,
		"PkgName": pkg,
		"InstalledVersion": installed,
		"Severity": severity,
		"Title": sprintf("%s: a flaw", [pkg]),
		"PrimaryURL": sprintf("https://avd.aquasec.com/nvd/%s", [lower(id)]),
	},
	fix(fixed),
)

fix(version) := {"FixedVersion": version, "Status": "fixed"} if {
	version != ""
} else := {"Status": "affected"}

report(vulnerabilities) := {
	"SchemaVersion": 2,
	"ArtifactName": "registry.example/shop/api:1.4.2",
	"ArtifactType": "container_image",
	"Results": [{
		"Target": "registry.example/shop/api:1.4.2 (ubuntu 22.04)",
		"Class": "os-pkgs",
		"Type": "ubuntu",
		"Vulnerabilities": vulnerabilities,
	}],
}

review(report) := {"review": {
	"kind": {"group": "scan.gatehouse.dev", "version": "v1", "kind": "ImageReport"},
	"operation": "CREATE",
	"object": {
		"apiVersion": "scan.gatehouse.dev/v1",
		"kind": "ImageReport",
		"metadata": {"name": "registry.example-shop-api-1.4.2"},
		"spec": {"image": "registry.example/shop/api:1.4.2"},
		"report": report,
	},
}}

defaults := {"severity": "HIGH", "ignoreUnfixed": false, "allow": []}

violations_of(inp) := v if {
	v := images.violation with input as inp
}

violations(vulnerabilities, parameters) := violations_of(object.union(
	review(report(vulnerabilities)),
	{"parameters": object.union(defaults, parameters)},
))

ids(vulnerabilities, parameters) := {v.details.vulnerabilityID | some v in violations(vulnerabilities, parameters)}

every_severity := [
	vulnerability("CVE-2024-0001", "CRITICAL", "openssl", "3.0.2-0ubuntu1.7", "3.0.2-0ubuntu1.8"),
	vulnerability("CVE-2024-0002", "HIGH", "curl", "7.81.0-1", "7.81.0-1ubuntu1.15"),
	vulnerability("CVE-2024-0003", "MEDIUM", "zlib1g", "1.2.11", "1.2.11.dfsg-2ubuntu9.2"),
	vulnerability("CVE-2024-0004", "LOW", "bash", "5.1-6", ""),
	vulnerability("CVE-2024-0005", "UNKNOWN", "tar", "1.34", ""),
	vulnerability("CVE-2024-0006", "NEGLIGIBLE", "coreutils", "8.32", ""),
]

test_the_default_threshold_reports_high_and_critical if {
	ids(every_severity, {}) == {"CVE-2024-0001", "CVE-2024-0002"}
}

test_each_threshold_reports_its_severity_and_above if {
	ids(every_severity, {"severity": "CRITICAL"}) == {"CVE-2024-0001"}
	ids(every_severity, {"severity": "MEDIUM"}) == {"CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"}
	ids(every_severity, {"severity": "LOW"}) == {"CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004"}
	# A severity trivy does not define ranks as UNKNOWN.
	ids(every_severity, {"severity": "UNKNOWN"}) == {v.VulnerabilityID | some v in every_severity}
}

test_the_message_path_and_details_name_the_vulnerability if {
	openssl := vulnerability("CVE-2023-0286", "HIGH", "openssl", "3.0.2-0ubuntu1.7", "3.0.2-0ubuntu1.8")
	titled := object.union(openssl, {"Title": "openssl: X.400 address type confusion in X.509 GeneralName"})
	v := violations([every_severity[2], titled], {})
	v == {{
		"msg": "CVE-2023-0286 (HIGH) in openssl 3.0.2-0ubuntu1.7, fixed in 3.0.2-0ubuntu1.8: openssl: X.400 address type confusion in X.509 GeneralName",
		"path": "/report/Results/0/Vulnerabilities/1",
		"details": {
			"vulnerabilityID": "CVE-2023-0286",
			"severity": "HIGH",
			"pkgName": "openssl",
			"installedVersion": "3.0.2-0ubuntu1.7",
			"fixedVersion": "3.0.2-0ubuntu1.8",
			"status": "fixed",
			"title": "openssl: X.400 address type confusion in X.509 GeneralName",
			"primaryURL": "https://avd.aquasec.com/nvd/cve-2023-0286",
			"target": "registry.example/shop/api:1.4.2 (ubuntu 22.04)",
		},
	}}
}

test_an_unfixed_vulnerability_says_so_and_a_missing_title_is_left_out if {
	bare := {"VulnerabilityID": "CVE-2021-38561", "PkgName": "golang.org/x/text", "InstalledVersion": "v0.3.5", "Severity": "CRITICAL"}
	[v.msg | some v in violations([bare], {})] == ["CVE-2021-38561 (CRITICAL) in golang.org/x/text v0.3.5, no fixed version"]
	deferred := object.union(bare, {"Status": "will_not_fix"})
	[v.msg | some v in violations([deferred], {})] == ["CVE-2021-38561 (CRITICAL) in golang.org/x/text v0.3.5, no fixed version (status will_not_fix)"]
}

test_ignore_unfixed_leaves_out_what_has_no_fix if {
	vulnerabilities := [
		vulnerability("CVE-2024-0010", "CRITICAL", "openssl", "3.0.2", "3.0.3"),
		vulnerability("CVE-2024-0011", "CRITICAL", "glibc", "2.35", ""),
		object.union(vulnerability("CVE-2024-0012", "CRITICAL", "perl", "5.34", "5.34.1"), {"Status": "will_not_fix"}),
		# Reports made before trivy wrote Status: FixedVersion alone decides.
		object.remove(vulnerability("CVE-2024-0013", "CRITICAL", "zlib", "1.2", "1.3"), ["Status"]),
		object.remove(vulnerability("CVE-2024-0014", "CRITICAL", "xz", "5.2", ""), ["Status"]),
	]
	ids(vulnerabilities, {}) == {"CVE-2024-0010", "CVE-2024-0011", "CVE-2024-0012", "CVE-2024-0013", "CVE-2024-0014"}
	ids(vulnerabilities, {"ignoreUnfixed": true}) == {"CVE-2024-0010", "CVE-2024-0013"}
}

test_an_allow_entry_in_force_allows_through_its_expiry_day if {
	allow := [
		{"id": "CVE-2024-0001", "reason": "not reachable: the service never parses X.400 names", "expires": "2999-12-31"},
		{"id": "CVE-2024-0002", "reason": "mitigated by the egress policy", "expires": images.today},
	]
	ids(every_severity, {"allow": allow}) == set()
}

test_an_expired_entry_allows_nothing_and_says_it_expired if {
	allow := [{"id": "CVE-2024-0001", "reason": "waiting for the base image", "expires": "2024-01-31"}]
	msgs := {v.msg | some v in violations(every_severity, {"allow": allow})}
	msgs == {
		"CVE-2024-0001 (CRITICAL) in openssl 3.0.2-0ubuntu1.7, fixed in 3.0.2-0ubuntu1.8: openssl: a flaw (its allow-list entry expired on 2024-01-31)",
		"CVE-2024-0002 (HIGH) in curl 7.81.0-1, fixed in 7.81.0-1ubuntu1.15: curl: a flaw",
	}
}

test_an_entry_without_reason_or_expiry_allows_nothing_and_says_why if {
	allow := [
		{"id": "CVE-2024-0001", "expires": "2999-12-31"},
		{"id": "CVE-2024-0001", "reason": "   ", "expires": "2999-12-31"},
		{"id": "CVE-2024-0002", "reason": "accepted"},
		{"id": "CVE-2024-0002", "reason": "accepted", "expires": "31/12/2999"},
	]
	msgs := {v.details.vulnerabilityID: v.msg | some v in violations(every_severity, {"allow": allow})}
	endswith(msgs["CVE-2024-0001"], "(its allow-list entry has no reason, so it allows nothing)")
	endswith(msgs["CVE-2024-0002"], concat("", [
		"(its allow-list entry has no expires (YYYY-MM-DD), so it allows nothing; ",
		"its allow-list entry's expires \"31/12/2999\" is not a date (YYYY-MM-DD), so it allows nothing)",
	]))
}

test_an_entry_allows_only_its_own_id if {
	allow := [{"id": "CVE-1999-9999", "reason": "another image's", "expires": "2999-12-31"}, "CVE-2024-0001", null]
	ids(every_severity, {"allow": allow}) == {"CVE-2024-0001", "CVE-2024-0002"}
	every v in violations(every_severity, {"allow": allow}) {
		not contains(v.msg, "allow-list")
	}
}

test_every_result_of_the_report_is_judged if {
	r := {"SchemaVersion": 2, "Results": [
		{"Target": "app (debian 12)", "Class": "os-pkgs", "Vulnerabilities": [every_severity[1]]},
		{"Target": "app/requirements.txt", "Class": "lang-pkgs"},
		{"Target": "usr/bin/app", "Class": "lang-pkgs", "Type": "gobinary", "Vulnerabilities": [every_severity[2], every_severity[0]]},
	]}
	v := violations_of(object.union(review(r), {"parameters": defaults}))
	{x.path | some x in v} == {"/report/Results/0/Vulnerabilities/0", "/report/Results/2/Vulnerabilities/1"}
	{x.details.target | some x in v} == {"app (debian 12)", "usr/bin/app"}
}

test_reports_without_vulnerabilities_or_of_odd_shape_raise_nothing if {
	shapes := [
		{"SchemaVersion": 2},
		{"SchemaVersion": 2, "Results": null},
		{"SchemaVersion": 2, "Results": "none"},
		{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": null}]},
		{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": {"VulnerabilityID": "CVE-2024-0001"}}]},
		{"SchemaVersion": 2, "Results": [null, {"Vulnerabilities": [null, "CVE-2024-0001", 3]}]},
	]
	counts := [n | some r in shapes; n := count(violations_of(object.union(review(r), {"parameters": defaults})))]
	counts == [0, 0, 0, 0, 0, 0]
	count(violations_of({"review": {"object": {}}, "parameters": defaults})) == 0
}

test_without_parameters_the_threshold_is_high if {
	v := violations_of(review(report(every_severity)))
	{x.details.vulnerabilityID | some x in v} == {"CVE-2024-0001", "CVE-2024-0002"}
}
