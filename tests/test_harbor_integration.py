"""Harbor: the SCANNING_COMPLETED webhook and the vulnerability report fetched back.

The client is exercised over real HTTP against tests/harbor_standin.py (a loopback
stand-in for Harbor's API, hostile on demand); the fetched bytes then go through gate's
own harbor source and policies. Secrets in these tests are checked never to be printed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import AT, CORPUS, fixture
from harbor_standin import (
    ROBOT_PASSWORD,
    ROBOT_USERNAME,
    WEBHOOK_SECRET,
    HarborStandIn,
    harbor_settings,
)

from gate.errors import ExitCode, UsageError
from gate.harbor import (
    MAX_RESOURCES,
    MAX_WEBHOOK_BYTES,
    REPORT_MIME_TYPES,
    HarborClient,
    HarborError,
    HarborSettings,
    ScanEvent,
    parse_webhook,
    webhook_authorised,
)

WEBHOOK = fixture("harbor/webhook-scanning-completed.json")
REPORT = fixture("harbor/vulnerabilities.json")
DIGEST = "sha256:a949ad6763b211d1f7b717cbdba031d5609843dcf1dbd80eefb6229a105d1440"
OTHER_DIGEST = "sha256:" + "0" * 63 + "1"
SECRET = WEBHOOK_SECRET
CORPUS_REPORT = CORPUS / "other" / "harbor-trivy-0.44-vuln-report.json"
CORPUS_DIGEST = "sha256:711103cfce07dc03d61f51e819fad7d6fbbad20fc99caa039cc8da77e7a1c51b"


def webhook(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(WEBHOOK.read_text())
    payload.update(changes)
    return payload


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def report_about(digest: str, mime: str = REPORT_MIME_TYPES[0]) -> dict[str, Any]:
    """The fixture report, its findings about ``digest``, under the ``mime`` key."""
    (report,) = json.loads(REPORT.read_text()).values()
    for finding in report["vulnerabilities"]:
        finding["artifact_digests"] = [digest]
    return {mime: report}


def settings(harbor: HarborStandIn, **changes: Any) -> HarborSettings:
    return harbor_settings(harbor, **{"timeout": 5.0, **changes})  # type: ignore[no-any-return]


def fetch(harbor: HarborStandIn, event: ScanEvent, **changes: Any) -> bytes:
    max_bytes = changes.pop("max_report_bytes", None)
    options = {} if max_bytes is None else {"max_report_bytes": max_bytes}
    return HarborClient(settings(harbor, **changes), **options).vulnerability_report(event)


def refused(harbor: HarborStandIn, event: ScanEvent, **changes: Any) -> HarborError:
    with pytest.raises(HarborError) as caught:
        fetch(harbor, event, **changes)
    error = caught.value
    assert error.exit_code == ExitCode.NO_VERDICT
    printed = f"{error} {error.hint}"
    assert ROBOT_PASSWORD not in printed
    assert SECRET not in printed
    return error


@pytest.fixture
def harbor():
    with HarborStandIn() as server:
        server.serve("acme", "shop-api", DIGEST, REPORT.read_bytes())
        yield server


@pytest.fixture
def elsewhere():
    """Another server on loopback: the host an attacker names. It must hear nothing."""
    with HarborStandIn() as server:
        yield server


EVENT = ScanEvent("acme", "shop-api", DIGEST, "1.4.2")


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://harbor.example", "https://harbor.example:8443/", "http://127.0.0.1:8080"],
)
def test_settings_accept_https_and_loopback_http(url):
    assert HarborSettings(url).url == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://harbor.example", "https only"),
        ("ftp://harbor.example", "https only"),
        ("harbor.example", "expected https://HOST"),
        ("https://harbor.example/?next=evil.example", "no query"),
        ("https://harbor.example:99999", "not a URL"),
    ],
)
def test_settings_refuse_urls_that_are_not_https_to_harbor(url, problem):
    with pytest.raises(UsageError, match=problem):
        HarborSettings(url)


def test_a_password_in_the_url_is_refused_without_being_echoed():
    with pytest.raises(UsageError) as caught:
        HarborSettings("https://robot:hunter2-secret@harbor.example")
    assert "hunter2" not in f"{caught.value} {caught.value.hint}"
    assert "GATE_HARBOR_PASSWORD" in str(caught.value.hint)


def test_settings_come_from_the_environment():
    env = {
        "GATE_HARBOR_USERNAME": ROBOT_USERNAME,
        "GATE_HARBOR_PASSWORD": ROBOT_PASSWORD,
        "GATE_HARBOR_WEBHOOK_SECRET": SECRET,
    }
    made = HarborSettings.from_env("https://harbor.example", "prod", None, env=env)
    assert (made.username, made.password, made.webhook_secret) == (
        ROBOT_USERNAME,
        ROBOT_PASSWORD,
        SECRET,
    )
    assert (made.stage, made.host) == ("prod", "harbor.example")
    unset = HarborSettings.from_env("https://harbor.example", None, None, env={})
    assert (unset.username, unset.password, unset.webhook_secret) == (None, None, None)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GATE_HARBOR_USERNAME": ROBOT_USERNAME}, "set both"),
        ({"GATE_HARBOR_PASSWORD": ROBOT_PASSWORD}, "set both"),
        ({"GATE_HARBOR_WEBHOOK_SECRET": "short"}, "shorter than 16"),
        ({"GATE_HARBOR_WEBHOOK_SECRET": "x" * 20 + "\r\nX-Evil: 1"}, "printable ASCII"),
        ({"GATE_HARBOR_USERNAME": "a:b", "GATE_HARBOR_PASSWORD": "p"}, "without ':'"),
    ],
)
def test_unusable_credentials_are_refused(env, problem):
    with pytest.raises(UsageError, match=problem) as caught:
        HarborSettings.from_env("https://harbor.example", None, None, env=env)
    assert ROBOT_PASSWORD not in str(caught.value)


def test_secrets_stay_out_of_reprs(harbor):
    configured = settings(harbor)
    for shown in (repr(configured), repr(HarborClient(configured))):
        assert ROBOT_PASSWORD not in shown
        assert SECRET not in shown
    assert ROBOT_USERNAME in repr(configured)


# --- webhook authorisation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (SECRET, True),
        (None, False),
        ("", False),
        (SECRET[:-1], False),
        (SECRET + " ", False),
        (" " + SECRET, False),
        (SECRET.lower(), False),
        ("Bearer 9f2c4e61b8d7a3f05e1c9b2d4a6f8e1\u00e9", False),
    ],
)
def test_the_webhook_is_authorised_by_the_exact_auth_header(header, expected):
    configured = HarborSettings("https://harbor.example", webhook_secret=SECRET)
    assert webhook_authorised(configured, header) is expected
    # the insecure switch never loosens a configured secret
    assert webhook_authorised(configured, header, allow_without_secret=True) is expected


def test_without_a_secret_nothing_is_authorised_unless_explicitly_insecure():
    unset = HarborSettings("https://harbor.example")
    assert webhook_authorised(unset, SECRET) is False
    assert webhook_authorised(unset, None) is False
    assert webhook_authorised(unset, None, allow_without_secret=True) is True


# --- webhook payloads --------------------------------------------------------------------


def test_the_scanning_completed_payload_names_the_artifact():
    (event,) = parse_webhook(WEBHOOK.read_bytes())
    assert event == ScanEvent("acme", "shop-api", DIGEST, "1.4.2")
    assert event.reference("harbor.example") == f"harbor.example/acme/shop-api@{DIGEST}"
    assert event.input_name == f"harbor:acme/shop-api@{DIGEST}"


def test_several_resources_are_several_events_and_repeats_one():
    payload = webhook()
    first = payload["event_data"]["resources"][0]
    second = dict(first, digest=OTHER_DIGEST, tag="")
    payload["event_data"]["resources"] = [first, second, dict(first, tag="latest")]
    events = parse_webhook(body(payload))
    assert [(e.digest, e.tag) for e in events] == [(DIGEST, "1.4.2"), (OTHER_DIGEST, None)]


def test_a_nested_repository_is_read_from_namespace_and_name():
    payload = webhook()
    payload["event_data"]["repository"].update(
        name="payments/shop-api", repo_full_name="acme/payments/shop-api"
    )
    (event,) = parse_webhook(body(payload))
    assert (event.project, event.repository) == ("acme", "payments/shop-api")


@pytest.mark.parametrize("event_type", ["SCANNING_FAILED", "SCANNING_STOPPED"])
def test_a_failed_scan_is_no_verdict_never_a_pass(event_type):
    with pytest.raises(HarborError, match=f"{event_type} for acme/shop-api@") as caught:
        parse_webhook(body(webhook(type=event_type)))
    assert caught.value.exit_code == ExitCode.NO_VERDICT


def test_a_completed_event_whose_scan_did_not_succeed_is_no_verdict():
    payload = webhook()
    (summary,) = payload["event_data"]["resources"][0]["scan_overview"].values()
    summary["scan_status"] = "Error"
    with pytest.raises(HarborError, match="scan status 'Error'"):
        parse_webhook(body(payload))


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (webhook(type="PUSH_ARTIFACT"), "SCANNING_COMPLETED only"),
        (webhook(type=None), "SCANNING_COMPLETED only"),
        ({"specversion": "1.0", "type": "harbor.scan.completed"}, "CloudEvents"),
        ([webhook()], "expected a JSON object"),
        (webhook(event_data=None), "event_data: expected an object"),
        (webhook(event_data={"repository": {"namespace": "acme", "name": "x"}}), "resources"),
    ],
)
def test_payloads_that_are_not_a_scan_event_are_refused(payload, problem):
    with pytest.raises(UsageError, match=problem):
        parse_webhook(body(payload))


HOSTILE_NAMES = [
    ("namespace", "../admin"),
    ("namespace", "ACME"),
    ("namespace", "42/../../users"),
    ("namespace", "a" * 256),
    ("name", "shop-api/../../../users"),
    ("name", "shop-api%2F..%2Fusers"),
    ("name", "x'; DROP TABLE decisions;--"),
    ("name", "shop-api?x=1"),
    ("name", "/shop-api"),
    ("name", "shop-api\r\nHost: evil.example"),
    ("digest", "sha256:abc"),
    ("digest", DIGEST.upper().replace("SHA256", "sha256")),
    ("digest", "sha512:" + "a" * 128),
    ("digest", DIGEST + "/../../x"),
    ("tag", "1.4.2/../../x"),
]


@pytest.mark.parametrize(("field_name", "value"), HOSTILE_NAMES)
def test_names_breaking_harbors_rules_never_reach_a_url(field_name, value):
    payload = webhook()
    repository = payload["event_data"]["repository"]
    resource = payload["event_data"]["resources"][0]
    if field_name in ("namespace", "name"):
        repository[field_name] = value
        repository["repo_full_name"] = f"{repository['namespace']}/{repository['name']}"
    else:
        resource[field_name] = value
    with pytest.raises(UsageError, match="not a valid Harbor") as caught:
        parse_webhook(body(payload))
    assert "\r" not in str(caught.value)  # echoed escaped, never raw


def test_repo_full_name_must_agree_with_namespace_and_name():
    payload = webhook()
    payload["event_data"]["repository"]["repo_full_name"] = "other-project/shop-api"
    with pytest.raises(UsageError, match="is not namespace/name"):
        parse_webhook(body(payload))


def test_absurd_resource_counts_and_sizes_are_refused():
    payload = webhook()
    payload["event_data"]["resources"] *= MAX_RESOURCES + 1
    with pytest.raises(UsageError, match=f"more than {MAX_RESOURCES}"):
        parse_webhook(body(payload))
    with pytest.raises(UsageError, match="larger than"):
        parse_webhook(b" " * (MAX_WEBHOOK_BYTES + 1))


@pytest.mark.parametrize(
    "raw",
    [
        # two digests: one parser would take the first, another the last
        WEBHOOK.read_text().replace('"tag"', f'"digest": "{OTHER_DIGEST}", "tag"').encode(),
        b"\xff\xfe not utf-8",
        b"",
        b'{"type": NaN}',
    ],
    ids=["duplicate-key", "not-utf8", "empty", "nan"],
)
def test_bodies_that_are_not_strict_json_are_refused(raw):
    with pytest.raises(UsageError, match="not JSON"):
        parse_webhook(raw)


def test_parsing_a_webhook_loads_no_http_client():
    code = (
        "import sys, pathlib; from gate.harbor import parse_webhook; "
        f"parse_webhook(pathlib.Path({str(WEBHOOK)!r}).read_bytes()); "
        "assert 'urllib3' not in sys.modules, 'urllib3 imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the report fetched back -------------------------------------------------------------


def test_the_report_is_fetched_with_the_robot_account_and_both_report_types(harbor):
    assert fetch(harbor, EVENT) == REPORT.read_bytes()
    (seen,) = harbor.requests
    assert seen.path == (
        f"/api/v2.0/projects/acme/repositories/shop-api/artifacts/{DIGEST}"
        "/additions/vulnerabilities"
    )
    assert seen.headers["X-Accept-Vulnerabilities"] == ", ".join(REPORT_MIME_TYPES)
    assert seen.headers["X-Is-Resource-Name"] == "true"
    assert seen.headers["Authorization"].startswith("Basic ")


def test_a_nested_repository_is_url_encoded_twice(harbor):
    harbor.serve("acme", "payments/shop-api", DIGEST, REPORT.read_bytes())
    event = ScanEvent("acme", "payments/shop-api", DIGEST)
    assert fetch(harbor, event) == REPORT.read_bytes()
    assert "/repositories/payments%252Fshop-api/artifacts/" in harbor.requests[-1].path


def test_a_numeric_project_name_is_not_read_as_another_projects_id(harbor):
    other = report_about(DIGEST)
    (report,) = other.values()
    report["vulnerabilities"] = []
    harbor.project_ids["42"] = "acme"  # project id 42 holds another report of the digest
    harbor.serve("42", "shop-api", DIGEST, json.dumps(other).encode())
    assert json.loads(fetch(harbor, ScanEvent("42", "shop-api", DIGEST))) == other


def test_the_fetched_report_is_judged_by_gates_own_source_and_policies(harbor, tmp_path):
    """The bytes the client returns are what the server evaluates: the fixable critical fails."""
    from gate.run import Settings, evaluate

    saved = tmp_path / "harbor-report.json"
    saved.write_bytes(fetch(harbor, EVENT))
    verdict = evaluate(
        Settings(
            inputs=[str(saved)],
            image=EVENT.reference(harbor.host),
            stage="dev",
            at=dt.datetime.fromisoformat(AT),
        )
    )
    assert verdict.decision == "fail"
    assert verdict.subject.digest == DIGEST
    assert [v.id for v in verdict.violations] == ["vuln-fixable-critical"]


@pytest.mark.parametrize("mime", REPORT_MIME_TYPES)
def test_reports_under_either_mime_type_are_accepted_and_parse(harbor, mime):
    from gate.inputs import InputFile
    from gate.run import parse_fragment

    served = json.dumps(report_about(DIGEST, mime)).encode()
    harbor.serve("acme", "shop-api", DIGEST, served)
    fetched = fetch(harbor, EVENT)
    fragment = parse_fragment(InputFile(EVENT.input_name, "0" * 64, len(fetched)), fetched)
    assert (fragment.format, fragment.subject.digest) == ("harbor", DIGEST)
    assert len(fragment.vulnerabilities) == 3


def test_no_report_for_the_artifact_is_no_verdict(harbor):
    harbor.serve("acme", "shop-api", DIGEST, b"{}")
    assert "no vulnerability report" in str(refused(harbor, EVENT))


def test_a_report_of_a_type_gate_did_not_ask_for_is_not_served(harbor):
    other = json.dumps({"application/vnd.example.sbom.report; version=1.0": {}}).encode()
    harbor.serve("acme", "shop-api", DIGEST, other)
    assert "no vulnerability report" in str(refused(harbor, EVENT))


@pytest.mark.parametrize(
    "where_named",
    ["artifact_digests", "artifact_digest", "artifact", "one-of-several"],
)
def test_a_report_about_another_digest_is_refused(harbor, where_named):
    document = report_about(DIGEST)
    (report,) = document.values()
    if where_named == "artifact_digests":
        report["vulnerabilities"][1]["artifact_digests"] = [OTHER_DIGEST]
    elif where_named == "artifact_digest":
        report["vulnerabilities"][0]["artifact_digest"] = OTHER_DIGEST
    elif where_named == "artifact":
        report["artifact"] = {"repository": "acme/shop-api", "digest": OTHER_DIGEST}
    else:
        report["vulnerabilities"][2]["artifact_digests"] = [DIGEST, OTHER_DIGEST]
    harbor.serve("acme", "shop-api", DIGEST, json.dumps(document).encode())
    assert OTHER_DIGEST in str(refused(harbor, EVENT))


def test_a_report_naming_the_digest_asked_is_accepted(harbor):
    document = report_about(DIGEST)
    (report,) = document.values()
    report["artifact"] = {"repository": "acme/shop-api", "digest": DIGEST}
    report["vulnerabilities"][0]["artifact_digest"] = DIGEST
    harbor.serve("acme", "shop-api", DIGEST, json.dumps(document).encode())
    assert json.loads(fetch(harbor, EVENT)) == document


def two_reports() -> dict[str, Any]:
    one = report_about(DIGEST)
    (report,) = one.values()
    return {**one, REPORT_MIME_TYPES[1]: copy.deepcopy(report)}


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b"[]",
        json.dumps(two_reports()).encode(),
        fixture("reports/trivy/v2-image.json").read_bytes(),
        json.dumps({REPORT_MIME_TYPES[0]: {"vulnerabilities": []}}).encode(),
        # gate's harbor source would read this as a clean scan: the client refuses it
        json.dumps({REPORT_MIME_TYPES[0]: {}}).encode(),
        json.dumps({REPORT_MIME_TYPES[0]: "a string"}).encode(),
    ],
    ids=[
        "not-json",
        "array",
        "two-reports",
        "trivy-report",
        "no-scanner",
        "empty-report",
        "string",
    ],
)
def test_an_answer_that_is_not_one_vulnerability_report_is_refused(harbor, answer):
    harbor.serve("acme", "shop-api", DIGEST, answer)
    message = str(refused(harbor, EVENT))
    assert (
        "not JSON" in message
        or "not one vulnerability report" in message
        or ("not a vulnerability report gate reads" in message)
    )


def test_a_redirect_is_not_followed_to_another_host(harbor, elsewhere):
    harbor.mode = "redirect"
    harbor.redirect_to = f"{elsewhere.url}/api/v2.0/steal"
    error = refused(harbor, EVENT)
    assert "follows no redirect" in str(error)
    assert elsewhere.requests == []


def test_a_redirect_on_the_same_host_is_not_followed_either(harbor):
    harbor.mode = "redirect"
    harbor.redirect_to = f"{harbor.url}/api/v2.0/elsewhere"
    refused(harbor, EVENT)
    assert len(harbor.requests) == 1


def test_resource_url_and_proxy_variables_never_choose_the_host(harbor, elsewhere, monkeypatch):
    """Only the configured Harbor is asked: not the payload's resource_url, not a proxy."""
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, elsewhere.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    payload = webhook()
    payload["event_data"]["resources"][0]["resource_url"] = f"{elsewhere.host}/acme/shop-api:1.4.2"
    (event,) = parse_webhook(body(payload))
    assert fetch(harbor, event) == REPORT.read_bytes()
    assert len(harbor.requests) == 1
    assert elsewhere.requests == []


def test_a_wrong_robot_password_is_refused_without_printing_it(harbor):
    error = refused(harbor, EVENT, password="wrong-" + ROBOT_PASSWORD)
    assert "refused the robot account" in str(error)
    assert "wrong-" not in str(error)


def test_no_robot_account_says_which_variables_to_set(harbor):
    error = refused(harbor, EVENT, username=None, password=None)
    assert "requires authentication" in str(error)
    assert "GATE_HARBOR_USERNAME" in str(error.hint)
    assert "Authorization" not in harbor.requests[0].headers


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("unauthorised", "refused the robot account"),
        ("forbidden", "does not let"),
        ("error", "answered HTTP 500"),
        ("gzip", "gzip"),
    ],
)
def test_error_answers_are_no_verdict(harbor, mode, expected):
    harbor.mode = mode
    assert expected in str(refused(harbor, EVENT))


def test_an_unknown_artifact_is_no_verdict(harbor):
    assert "no such artifact" in str(refused(harbor, ScanEvent("acme", "other", DIGEST)))


@pytest.mark.parametrize("mode", ["huge", "huge-declared"])
def test_an_oversized_answer_is_cut_off(harbor, mode):
    harbor.mode = mode
    harbor.huge_bytes = 1024 * 1024
    assert "sent more than 65536 bytes" in str(refused(harbor, EVENT, max_report_bytes=65536))


def test_a_server_that_does_not_answer_times_out(harbor):
    harbor.mode = "slow"
    harbor.delay = 3.0
    assert "did not answer within 0.5 s" in str(refused(harbor, EVENT, timeout=0.5))


def test_a_trickling_answer_is_cut_at_the_deadline(harbor):
    # Each byte comes well within the read timeout; only the whole-answer deadline stops it.
    harbor.mode = "trickle"
    harbor.trickle_bytes = 100
    harbor.trickle_interval = 0.05
    assert "took too long" in str(refused(harbor, EVENT, timeout=0.5))


def test_tls_is_verified_against_the_given_ca(tmp_path):
    from registry.support import make_tls_files

    certificate, key, ca_file = make_tls_files(tmp_path / "tls")
    with HarborStandIn(tls=(certificate, key)) as harbor:
        harbor.serve("acme", "shop-api", DIGEST, REPORT.read_bytes())
        error = refused(harbor, EVENT)
        assert "TLS with 127.0.0.1" in str(error)
        assert "CA" in str(error.hint)
        assert fetch(harbor, EVENT, ca_file=str(ca_file)) == REPORT.read_bytes()


def test_an_unreadable_ca_file_is_a_usage_error(harbor, tmp_path):
    with pytest.raises(UsageError, match="cannot read the CA file"):
        HarborClient(settings(harbor, ca_file=str(tmp_path / "missing.pem")))


def test_nothing_listens_is_no_verdict():
    with HarborStandIn() as gone:
        url = gone.url
    with pytest.raises(HarborError, match="cannot connect to 127.0.0.1"):
        HarborClient(HarborSettings(url, timeout=2.0)).vulnerability_report(EVENT)


# --- the real report of the corpus -------------------------------------------------------


@pytest.mark.skipif(not CORPUS_REPORT.exists(), reason="../shared/corpus is not present")
def test_a_real_harbor_report_goes_through_the_client_and_gates_source(harbor, tmp_path):
    from gate.run import Settings, build_document

    real = CORPUS_REPORT.read_bytes()
    harbor.serve("library", "debian", CORPUS_DIGEST, real)
    event = ScanEvent("library", "debian", CORPUS_DIGEST, "11")
    fetched = fetch(harbor, event)
    assert fetched == real
    saved: Path = tmp_path / "harbor.json"
    saved.write_bytes(fetched)
    document = build_document(
        Settings(inputs=[str(saved)], image=event.reference(harbor.host)), "prod"
    )
    assert document.subject.digest == CORPUS_DIGEST
    assert [scan.tool for scan in document.scans] == ["trivy"]
    assert len(document.vulnerabilities) == 3
