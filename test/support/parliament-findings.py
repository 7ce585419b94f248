"""parliament over many IAM policy documents in one process, for test/infra/linters.test.ts.

Reads {"policies": [{"name": str, "document": {...}}]} on stdin and prints one
JSON list of findings: {"policy", "issue", "severity", "title", "detail",
"location"}. Community auditors are on, since PRIVILEGE_ESCALATION is one of
them. Called as a library rather than through the CLI, whose --file refuses
to run when stdin is not a terminal and which writes its arguments to
/tmp/parliament.log.
"""

import json
import sys
from pathlib import Path

import parliament
from parliament import analyze_policy_string, enhance_finding, override_config

# Without this, enhance_finding does not know the community auditors' issues.
override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")


def main() -> None:
    request = json.load(sys.stdin)
    findings = []
    for policy in request["policies"]:
        analyzed = analyze_policy_string(
            json.dumps(policy["document"]),
            filepath=policy["name"],
            include_community_auditors=True,
        )
        for finding in analyzed.findings:
            finding = enhance_finding(finding)
            findings.append(
                {
                    "policy": policy["name"],
                    "issue": finding.issue,
                    "severity": finding.severity,
                    "title": finding.title,
                    "detail": finding.detail,
                    "location": finding.location,
                }
            )
    json.dump(findings, sys.stdout, default=str)


if __name__ == "__main__":
    main()
