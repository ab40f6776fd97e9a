"""Where the updater's queue is: the address forms, Kubernetes' `$(VAR)` expansion, the
Deployment's variables, and configuration over Deployment over Terraform's names."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wbctl.core.kube import Container, EnvVar, Workload
from wbctl.core.queue_source import (
    CONSUMER_GROUP,
    ENV_VAR,
    QueueAddress,
    config_maps_needed,
    discover,
    expand,
    parse,
    resolve,
)
from wbctl.errors import UsageError

FAST = settings(max_examples=200, deadline=None)
LABELS = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "flat-run-fields-updater"}
KAFKA_TEMPLATE = (
    "kafka://$(KAFKA_CLIENT_USER):$(KAFKA_CLIENT_PASSWORD)@$(BROKER):$(KAFKA_PORT)/$(TOPIC)"
    "?consumer_group_id=flat-run-fields-updater&num_partitions=$(PARTITIONS)"
)


def updater(*env: EnvVar, env_from: tuple[str, ...] = (), sidecar: bool = True) -> Workload:
    containers = (Container("updater", "wandb/local:0.70.0", {}, {}, env, env_from),)
    if sidecar:  # a container without the variable comes first: the one holding it is found
        containers = (Container("proxy", "envoy:1", {}, {}, (EnvVar("PORT", "1"),)),) + containers
    return Workload("Deployment", "wandb-flat-run-fields-updater", LABELS, dict(LABELS), 3, 3, containers)


# --- parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "pubsub:/my-proj/wandb-run-updates-shadow/wandb-flat-run-fields-updater",
            QueueAddress(
                "pubsub",
                "o",
                project="my-proj",
                topic="wandb-run-updates-shadow",
                subscription="wandb-flat-run-fields-updater",
            ),
            id="pubsub",
        ),
        pytest.param(
            "  pubsub:/p/t/s\n",
            QueueAddress("pubsub", "o", project="p", topic="t", subscription="s"),
            id="pubsub-surrounding-whitespace",
        ),
        pytest.param(
            "kafka://bufstream.wandb.svc:9092/run-updates?consumer_group_id=g1&num_partitions=12",
            QueueAddress(
                "kafka", "o", topic="run-updates", broker="bufstream.wandb.svc:9092", group="g1", partitions=12
            ),
            id="kafka",
        ),
        pytest.param(
            "kafka://alice:s3cr3t@bufstream:9092/run-updates?consumer_group_id=g1&num_partitions=3",
            QueueAddress("kafka", "o", topic="run-updates", broker="bufstream:9092", group="g1", partitions=3),
            id="kafka-credentials-dropped",
        ),
        pytest.param(
            "kafka://bufstream:9092/run-updates",
            QueueAddress("kafka", "o", topic="run-updates", broker="bufstream:9092", group=CONSUMER_GROUP),
            id="kafka-default-group-unknown-partitions",
        ),
        pytest.param(
            "kafka://bufstream:9092/run-updates?num_partitions=many",
            QueueAddress("kafka", "o", topic="run-updates", broker="bufstream:9092", group=CONSUMER_GROUP),
            id="kafka-partitions-not-a-number",
        ),
    ],
)
def test_parse(text: str, expected: QueueAddress) -> None:
    assert parse(text, "o") == expected


def test_parse_keeps_no_credentials_anywhere() -> None:
    address = parse("kafka://alice:s3cr3t-Pa55@bufstream:9092/t?consumer_group_id=g&num_partitions=1", "o")
    assert "s3cr3t" not in repr(address) and "alice" not in repr(address)
    assert "s3cr3t" not in address.describe()


def test_parse_reports_unresolved_references() -> None:
    address = parse("kafka://$(HOST):9092/$(TOPIC)?num_partitions=3", "o")
    assert address.unresolved == ("HOST", "TOPIC")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("redis://host:6379/0", id="redis"),
        pytest.param("https://pubsub.googleapis.com/p/t/s", id="https"),
        pytest.param("projects/p/subscriptions/s", id="resource-name"),
        pytest.param("pubsub:/p/t", id="pubsub-two-parts"),
        pytest.param("pubsub:/p/t/s/x", id="pubsub-four-parts"),
        pytest.param("kafka:/host:9092/t", id="kafka-one-slash"),
        pytest.param("KAFKA://host:9092/t", id="upper-case-scheme"),
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="deployment/x"):
        parse(text, "deployment/x")


# --- expand ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "expected", "missing"),
    [
        pytest.param("$(A)-$(B)", {"A": "1", "B": "2"}, "1-2", (), id="known"),
        pytest.param("$$", {}, "$", (), id="escaped-dollar"),
        pytest.param("$$(A)", {"A": "1"}, "$(A)", (), id="escaped-reference-stays-literal"),
        pytest.param("$$$(A)", {"A": "1"}, "$1", (), id="escape-then-reference"),
        pytest.param("$(NOPE)x$(NOPE)", {}, "$(NOPE)x$(NOPE)", ("NOPE",), id="unknown-kept-named-once"),
        pytest.param("$(A)$(B)", {"B": "2"}, "$(A)2", ("A",), id="partly-known"),
        pytest.param("$A $(A", {"A": "1"}, "$A $(A", (), id="not-references"),
        pytest.param("$(A)", {"A": "$(B)", "B": "2"}, "$(B)", (), id="values-not-expanded-again"),
        pytest.param("$(my.var-1)", {"my.var-1": "ok"}, "ok", (), id="dots-and-dashes-in-names"),
    ],
)
def test_expand(text: str, variables: dict, expected: str, missing: tuple) -> None:
    assert expand(text, variables) == (expected, missing)


# --- discover -------------------------------------------------------------------------


def test_discover_pubsub() -> None:
    workload = updater(EnvVar(ENV_VAR, "pubsub:/my-proj/wandb-run-updates-shadow/wandb-flat-run-fields-updater"))
    address = discover(workload, {})
    assert address is not None
    assert (address.source, address.project, address.topic, address.subscription) == (
        "pubsub",
        "my-proj",
        "wandb-run-updates-shadow",
        "wandb-flat-run-fields-updater",
    )
    assert "wandb-flat-run-fields-updater" in address.origin and ENV_VAR in address.origin
    assert config_maps_needed(workload) == ()


def test_discover_kafka_from_env_env_from_and_config_map_key_ref() -> None:
    workload = updater(
        EnvVar("KAFKA_CLIENT_USER", None),  # a secretKeyRef: never read
        EnvVar("KAFKA_CLIENT_PASSWORD", None),
        EnvVar("BROKER_HOST", None, ("wandb-bufstream", "host")),
        EnvVar("BROKER", "$(BROKER_HOST).wandb.svc"),  # expanded from an earlier entry
        EnvVar(ENV_VAR, KAFKA_TEMPLATE),
        env_from=("wandb-kafka-env",),
    )
    config_maps = {
        "wandb-bufstream": {"host": "bufstream"},
        "wandb-kafka-env": {"KAFKA_PORT": "9092", "TOPIC": "run-updates", "PARTITIONS": "12"},
    }
    assert config_maps_needed(workload) == ("wandb-kafka-env", "wandb-bufstream")
    address = discover(workload, config_maps)
    assert address is not None
    assert (address.source, address.broker, address.topic, address.group, address.partitions) == (
        "kafka",
        "bufstream.wandb.svc:9092",
        "run-updates",
        "flat-run-fields-updater",
        12,
    )
    assert address.unresolved == ()  # the credentials' references are not reported


def test_discover_env_entries_override_env_from_and_only_earlier_ones_count() -> None:
    workload = updater(
        EnvVar("KAFKA_PORT", "9093"),  # overrides the ConfigMap's 9092
        EnvVar("BROKER", "bufstream"),
        EnvVar(ENV_VAR, "kafka://$(BROKER):$(KAFKA_PORT)/$(TOPIC)?num_partitions=$(PARTITIONS)"),
        EnvVar("TOPIC", "too-late"),  # after the variable: Kubernetes does not see it
        env_from=("env",),
    )
    address = discover(workload, {"env": {"KAFKA_PORT": "9092", "PARTITIONS": "6"}})
    assert address is not None
    assert address.broker == "bufstream:9093"
    assert address.partitions == 6
    assert address.topic == "$(TOPIC)"
    assert address.unresolved == ("TOPIC",)


def test_discover_with_a_missing_config_map_keeps_the_reference() -> None:
    workload = updater(
        EnvVar("BROKER", None, ("gone", "host")), EnvVar(ENV_VAR, "kafka://$(BROKER):9092/run-updates?num_partitions=3")
    )
    address = discover(workload, {})
    assert address is not None and address.unresolved == ("BROKER",)
    assert config_maps_needed(workload) == ("gone",)


def test_discover_keeps_an_escaped_dollar() -> None:
    workload = updater(EnvVar("TOPIC", "a$$b"), EnvVar(ENV_VAR, "kafka://b:9092/$(TOPIC)"))
    address = discover(workload, {})
    assert address is not None and address.topic == "a$b"


# The v2 operator's updater (wandb/operator hack/testing-manifests/server-manifest/
# 0.84.0-notifications-security-flags.0/manifest.yaml: commonEnvs kafka + flatRunsV2Consumer).
V2_ADDRESS = "$(KAFKA_URL)/$(KAFKA_RUNS_V2_TOPIC_NAME)?consumer_group_id=flat-run-fields-updater"


def v2_updater(url: EnvVar) -> Workload:
    return updater(
        EnvVar("KAFKA_BROKER_HOST", None, secret=("wandb-kafka-connection", "host")),
        url,
        EnvVar("KAFKA_RUNS_V2_TOPIC_NAME", "flat-run-fields-updater"),
        EnvVar(ENV_VAR, V2_ADDRESS),
    )


def test_discover_the_v2_operators_address_names_the_secret_without_reading_it() -> None:
    address = discover(v2_updater(EnvVar("KAFKA_URL", None, secret=("wandb-kafka-connection", "url"))), {})
    assert address is not None
    assert (address.source, address.topic, address.group, address.broker) == (
        "kafka",
        "flat-run-fields-updater",
        "flat-run-fields-updater",
        None,
    )
    assert address.broker_held_in == "Secret wandb-kafka-connection key url"
    assert address.unresolved == ()
    assert "the broker in Secret wandb-kafka-connection key url" in address.describe()
    assert config_maps_needed(v2_updater(EnvVar("KAFKA_URL", None, secret=("s", "url")))) == ()


def test_discover_the_v2_form_with_the_url_given_literally_reads_the_broker() -> None:
    address = discover(v2_updater(EnvVar("KAFKA_URL", "kafka://bufstream.wandb.svc:9092")), {})
    assert address is not None
    assert (address.broker, address.topic, address.broker_held_in) == (
        "bufstream.wandb.svc:9092",
        "flat-run-fields-updater",
        None,
    )


def test_discover_a_leading_reference_to_another_secret_is_still_refused() -> None:
    workload = updater(EnvVar("PUBSUB_PATH", None, secret=("s", "k")), EnvVar(ENV_VAR, "$(PUBSUB_PATH)/t"))
    with pytest.raises(UsageError, match="unknown queue address scheme"):
        discover(workload, {})


@pytest.mark.parametrize(
    "workload",
    [
        pytest.param(None, id="no-deployment"),
        pytest.param(updater(EnvVar("OTHER", "x")), id="no-variable"),
    ],
)
def test_discover_without_the_variable(workload: Workload | None) -> None:
    assert discover(workload, {}) is None
    assert config_maps_needed(workload) == ()


def test_discover_rejects_a_malformed_variable() -> None:
    with pytest.raises(UsageError):
        discover(updater(EnvVar(ENV_VAR, "nats://x")), {})


# --- resolve --------------------------------------------------------------------------

PUBSUB = QueueAddress("pubsub", "deployment/u env X", project="dep-proj", topic="dep-topic", subscription="dep-sub")
KAFKA = QueueAddress(
    "kafka",
    "deployment/u env X",
    topic="run-updates",
    broker="bufstream:9092",
    group="flat-run-fields-updater",
    partitions=6,
)


def resolved(discovered: QueueAddress | None, **config) -> QueueAddress:
    options = {"source": None, "subscription": None, "topic": None, "project": "cfg-proj", "install": "wandb"}
    options.update(config)
    return resolve(discovered, **options)


@pytest.mark.parametrize(
    ("discovered", "config", "expected"),
    [
        pytest.param(PUBSUB, {"source": "none"}, ("none", None, None, None, None), id="source-none"),
        pytest.param(None, {"source": "none"}, ("none", None, None, None, None), id="source-none-nothing-found"),
        pytest.param(PUBSUB, {}, ("pubsub", "dep-proj", "dep-topic", "dep-sub", None), id="deployment"),
        pytest.param(
            PUBSUB,
            {"subscription": "cfg-sub", "topic": "cfg-topic"},
            ("pubsub", "dep-proj", "cfg-topic", "cfg-sub", None),
            id="config-over-deployment",
        ),
        pytest.param(
            PUBSUB,
            {"source": "pubsub", "subscription": "cfg-sub"},
            ("pubsub", "dep-proj", "dep-topic", "cfg-sub", None),
            id="same-source-keeps-deployment",
        ),
        pytest.param(KAFKA, {}, ("kafka", None, "run-updates", None, 6), id="kafka-deployment"),
        pytest.param(
            KAFKA,
            {"partitions": 24, "subscription": "ignored"},
            ("kafka", None, "run-updates", None, 24),
            id="kafka-config-partitions",
        ),
        pytest.param(
            None,
            {},
            ("pubsub", "cfg-proj", "wandb-run-updates-shadow", "wandb-flat-run-fields-updater", None),
            id="terraform-names",
        ),
        pytest.param(
            None,
            {"install": "prod"},
            ("pubsub", "cfg-proj", "prod-run-updates-shadow", "prod-flat-run-fields-updater", None),
            id="terraform-names-of-the-install",
        ),
        pytest.param(
            None,
            {"subscription": "cfg-sub"},
            ("pubsub", "cfg-proj", "wandb-run-updates-shadow", "cfg-sub", None),
            id="terraform-topic-config-sub",
        ),
        pytest.param(
            None,
            {"source": "kafka", "partitions": 3},
            ("kafka", None, "wandb-run-updates-shadow", None, 3),
            id="kafka-configured-nothing-found",
        ),
        pytest.param(
            KAFKA,
            {"source": "pubsub"},
            ("pubsub", "cfg-proj", "wandb-run-updates-shadow", "wandb-flat-run-fields-updater", None),
            id="configured-source-over-deployment",
        ),
    ],
)
def test_resolve(discovered: QueueAddress | None, config: dict, expected: tuple) -> None:
    address = resolved(discovered, **config)
    assert (address.source, address.project, address.topic, address.subscription, address.partitions) == expected


def test_resolve_says_where_each_part_came_from() -> None:
    assert "config" in resolved(PUBSUB, subscription="cfg-sub").origin
    assert resolved(PUBSUB).origin == PUBSUB.origin
    assert "Terraform" in resolved(None).origin
    assert resolved(None, source="kafka").group == CONSUMER_GROUP


# --- properties -----------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)
PLAIN = st.text(alphabet=st.characters(blacklist_characters="$", blacklist_categories=("Cs",)), max_size=10)


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, dict[str, str], str]:
    """A text of plain pieces, escaped dollars and known references, with its expected expansion."""
    variables = draw(st.dictionaries(NAMES, PLAIN, min_size=1, max_size=5))
    text, expected = [], []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["plain", "reference", "escape"]))
        if kind == "plain":
            piece = draw(PLAIN)
            text.append(piece)
            expected.append(piece)
        elif kind == "reference":
            name = draw(st.sampled_from(sorted(variables)))
            text.append(f"$({name})")
            expected.append(variables[name])
        else:  # `$$` then a space, so it never makes `$(` on its own
            text.append("$$ ")
            expected.append("$ ")
    return "".join(text), variables, "".join(expected)


@FAST
@given(templates())
def test_expand_with_known_references_leaves_none(template: tuple[str, dict[str, str], str]) -> None:
    text, variables, expected = template
    result, missing = expand(text, variables)
    assert "$(" not in result
    assert missing == ()
    assert result == expected


@FAST
@given(st.text(), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
@example("$$(A)$(", {"A": "x"})
def test_expand_never_raises(text: str, variables: dict[str, str]) -> None:
    result, missing = expand(text, variables)
    assert isinstance(result, str)
    assert all(isinstance(name, str) and f"$({name})" in result for name in missing)


SEGMENT = st.from_regex(r"[a-z][a-z0-9._-]{0,30}", fullmatch=True)


@FAST
@given(SEGMENT, SEGMENT, SEGMENT)
def test_parse_pubsub_round_trips(project: str, topic: str, subscription: str) -> None:
    address = parse(f"pubsub:/{project}/{topic}/{subscription}", "o")
    assert (address.source, address.project, address.topic, address.subscription) == (
        "pubsub",
        project,
        topic,
        subscription,
    )


KAFKAISH = st.builds(
    lambda user, host, topic, query: f"kafka://{user}{host}/{topic}?{query}",
    st.sampled_from(["", "u:p@", "$(KAFKA_CLIENT_USER):$(KAFKA_CLIENT_PASSWORD)@"]),
    st.text(max_size=12),
    st.text(max_size=12),
    st.lists(
        st.tuples(st.sampled_from(["consumer_group_id", "num_partitions", "x"]), st.text(max_size=6)), max_size=3
    ).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)),
)


@FAST
@given(
    st.one_of(
        st.text(),
        st.text().map(lambda t: "pubsub:" + t),
        st.text().map(lambda t: "kafka://" + t),
        st.text().map(lambda t: "http://" + t),
        KAFKAISH,
    )
)
@example("http://[")  # urlsplit raises ValueError ("Invalid IPv6 URL") on the unknown-scheme path
@example("kafka://bufstream:9092/t?num_partitions=\u00b2")  # "²".isdigit() is True, int("²") raises
def test_parse_raises_only_usage_errors(text: str) -> None:
    try:
        address = parse(text, "o")
    except UsageError:
        return
    assert address.source in ("pubsub", "kafka")
    assert address.partitions is None or address.partitions >= 0
