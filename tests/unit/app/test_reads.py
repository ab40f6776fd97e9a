"""The named reads: typed names, the queue's readings from what was read, unknowns carried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wbctl.app import reads
from wbctl.app.gather import Gathering, gather
from wbctl.core.model import Observed
from wbctl.core.queue_source import QueueAddress
from wbctl.core.series import Series, SignalData
from wbctl.errors import BackendError

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _signal(name: str, *values: float) -> SignalData:
    points = tuple((NOW - timedelta(minutes=len(values) - 1 - i), v) for i, v in enumerate(values))
    return SignalData(name, (Series({}, points),))


def test_read_names_are_the_strings_every_message_and_timing_uses() -> None:
    assert reads.KUBE == "kube" and f"{reads.QUEUE_ADDRESS}" == "queue-address"
    assert reads.PUBSUB["backlog"] == "pubsub-backlog" and reads.KAFKA["consumed"] == "kafka-consumed"
    assert all(read.startswith(reads.BIGTABLE_PREFIX) for read in reads.BIGTABLE_SIGNALS)
    names = [
        reads.KUBE,
        reads.REDIS,
        reads.MYSQL,
        reads.DISCARD,
        reads.BIGTABLE_ADMIN,
        reads.QUEUE_ADDRESS,
        reads.NOISY_RUNS,
        reads.CHANGES,
        *reads.BIGTABLE_SIGNALS,
        *reads.PUBSUB.values(),
        *reads.KAFKA.values(),
        reads.FILESTREAM_ADDRESS,
        *reads.FILESTREAM.values(),
    ]
    assert len(names) == len(set(names))
    # the filestream queue's reads are its own: its section's duration is theirs alone
    assert all(
        name.startswith(reads.FILESTREAM_QUEUE.prefixes)
        for name in (reads.FILESTREAM_ADDRESS, *reads.FILESTREAM.values())
    )
    assert not any(
        name.startswith(reads.FILESTREAM_QUEUE.prefixes) for name in (reads.QUEUE_ADDRESS, *reads.PUBSUB.values())
    )


def test_filestream_readings_come_from_its_own_reads() -> None:
    results = gather(
        {
            reads.PUBSUB["backlog"]: lambda _: _signal("queue-undelivered", 1, 2, 3),
            reads.FILESTREAM["backlog"]: lambda _: _signal("queue-undelivered", 500, 700, 900),
        },
        timeout=1,
    )
    address = QueueAddress("pubsub", "test", subscription="wandb-filestream-gorilla", topic="wandb-filestream")
    readings = reads.queue_readings(results, address, reads.FILESTREAM_QUEUE)
    assert readings.backlog.latest == 900
    assert readings.consumed.reason == "not read"


def test_a_filestream_queue_on_kafka_is_unknown_not_misread() -> None:
    address = QueueAddress("kafka", "test", topic="t", group="g")
    readings = reads.queue_readings(gather({}, timeout=1), address, reads.FILESTREAM_QUEUE)
    assert not readings.backlog.known and readings.backlog.reason == "the filestream queue on Kafka is not measured"


def test_pubsub_readings_take_each_signal_and_keep_each_reason() -> None:
    results = gather(
        {
            reads.PUBSUB["backlog"]: lambda _: _signal("queue-undelivered", 10, 20, 30),
            reads.PUBSUB["oldest_age"]: lambda _: _signal("queue-oldest-age", 60, 120),
            reads.PUBSUB["published"]: lambda _: _signal("queue-published", 5.0),
            reads.PUBSUB["consumed"]: lambda _: (_ for _ in ()).throw(BackendError("monitoring refused")),
            reads.PUBSUB["expired"]: lambda _: SignalData("queue-expired", None, "no data", no_data=True),
        },
        timeout=1,
    )
    readings = reads.queue_readings(results, QueueAddress("pubsub", subscription="s", topic="t", origin="test"))
    assert readings.source == "pubsub"
    assert readings.backlog.latest == 30 and readings.oldest_age.latest == 120 and readings.published.latest == 5.0
    assert not readings.consumed.known and "monitoring refused" in readings.consumed.reason
    assert not readings.expired.known and readings.expired.no_data


def test_kafka_readings_estimate_what_kafka_does_not_export() -> None:
    lag = SignalData(
        "queue-lag-partitions",
        (Series({"partition": "0"}, ((NOW, 7.0),)), Series({"partition": "1"}, ((NOW, 3.0),))),
    )
    results = gather(
        {reads.KAFKA["backlog"]: lambda _: _signal("queue-lag", 9, 10), reads.KAFKA["partitions"]: lambda _: lag},
        timeout=1,
    )
    readings = reads.queue_readings(results, QueueAddress("kafka", topic="t", group="g", origin="test"))
    assert readings.backlog.latest == 10
    assert readings.partitions == {"0": 7.0, "1": 3.0}
    assert readings.consumed.reason == "not read"  # no consumption read: unknown, never zero
    assert not readings.oldest_age.known and not readings.published.known


def test_signal_data_says_whether_a_signal_was_not_read_or_unreadable() -> None:
    results = gather({reads.BIGTABLE_CPU: lambda _: (_ for _ in ()).throw(BackendError("denied"))}, timeout=1)
    assert reads.signal_data(results, reads.BIGTABLE_CPU).reason == "denied"
    assert reads.signal_data(results, reads.BIGTABLE_NODES).reason == "not read"


def test_the_queue_address_falls_back_to_the_settings_when_kubernetes_is_unreadable(make_session) -> None:
    session = make_session(WBCTL_QUEUE_SOURCE="kafka", WBCTL_QUEUE_TOPIC="run-updates")
    readers: reads.Readers = {reads.KUBE: lambda _: (_ for _ in ()).throw(BackendError("kube down"))}
    reads.add_queue(readers, session, 1800, NOW)
    results = gather(readers, timeout=1)
    address = results[reads.QUEUE_ADDRESS].value
    assert address is not None and address.source == "kafka" and address.topic == "run-updates"
    # the Pub/Sub signals of a Kafka queue are not read at all: unknown, saying why
    assert results[reads.PUBSUB["backlog"]].reason == "the queue is kafka"


def test_a_read_needing_an_unknown_read_is_unknown_with_its_reason() -> None:
    def address(gathering: Gathering) -> QueueAddress:
        gathering.need(reads.KUBE)
        raise AssertionError("not reached")

    results = gather(
        {reads.KUBE: lambda _: (_ for _ in ()).throw(BackendError("forbidden")), reads.QUEUE_ADDRESS: address},
        timeout=1,
    )
    assert results[reads.QUEUE_ADDRESS] == Observed(None, "forbidden")
