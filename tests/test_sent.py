"""The sent-record: the same picks of the same day go out once per channel; it never keeps a URL as written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from recommender.sent import KEEP_DAYS, SentRecord, channel_key, picks_key, sent_record

DAY = date(2021, 4, 22)
AT = datetime(2021, 4, 22, 9, 0, tzinfo=UTC)


def test_the_key_changes_with_the_day_the_profiles_and_the_picks_and_their_order():
    base = picks_key(DAY, [("sr", ["2104.1", "2104.2"])])
    assert base == picks_key(DAY, [("sr", ["2104.1", "2104.2"])])
    others = [
        picks_key(DAY + timedelta(days=1), [("sr", ["2104.1", "2104.2"])]),
        picks_key(DAY, [("vision", ["2104.1", "2104.2"])]),
        picks_key(DAY, [("sr", ["2104.2", "2104.1"])]),
        picks_key(DAY, [("sr", ["2104.1"])]),
        picks_key(DAY, [("sr", ["2104.1", "2104.2"]), ("vision", [])]),
    ]
    assert base not in others and len(set(others)) == len(others)
    assert base.startswith("2021-04-22 ")


def test_a_mark_is_found_per_channel_and_old_rows_go(tmp_path):
    record = SentRecord(tmp_path / "sent.sqlite3")
    key = picks_key(DAY, [("sr", ["2104.1"])])
    assert record.when("mail", key) is None
    assert record.mark("mail", key, AT)
    assert record.when("mail", key) == AT and record.when("chat", key) is None
    later = picks_key(DAY + timedelta(days=KEEP_DAYS + 1), [("sr", ["2106.1"])])
    record.mark("mail", later, AT + timedelta(days=KEEP_DAYS + 1))
    assert record.when("mail", key) is None and record.when("mail", later) is not None
    record.close()


def test_a_chat_url_is_kept_only_as_a_hash(home):
    url = "json://127.0.0.1:9/hook?token=s3cr3t-t0ken"
    key = picks_key(DAY, [("sr", ["2104.1"])])
    with sent_record() as record:
        assert record is not None
        record.mark(channel_key("chat", url), key, AT)
        assert record.when(channel_key("chat", url), key) == AT
    assert record.when(channel_key("chat", url), key) is None  # the block closed its connection
    stored = b"".join(p.read_bytes() for p in (home / "state").glob("sent.sqlite3*"))
    assert b"s3cr3t" not in stored and channel_key("chat", url).encode() in stored


def test_a_record_that_cannot_be_read_holds_nothing_back(home):
    (home / "state").mkdir(parents=True)
    (home / "state" / "sent.sqlite3").write_bytes(b"not a database, but a file of the right name" * 50)
    with sent_record() as record:
        assert record is None or (record.when("mail", "k") is None and record.mark("mail", "k", AT) is False)


def test_the_record_knows_when_this_version_began_and_keeps_that_past_the_old_rows(tmp_path):
    record = SentRecord(tmp_path / "sent.sqlite3")
    key = picks_key(DAY, [("sr", ["2104.1"])])
    assert record.start() is None and record.mark("mail", key, AT)
    assert record.when_before_upgrade("mail", key) is None  # this version's row
    assert record.mark("mail", "earlier", AT - timedelta(hours=1)) and record.start() == AT - timedelta(hours=1)
    assert record.mark("mail", "old", AT, before_upgrade=True)  # a digest the previous version kept, sent now
    assert record.when_before_upgrade("mail", "old") == AT - timedelta(hours=1, microseconds=1)
    record.mark("mail", "later", AT + timedelta(days=KEEP_DAYS + 1))
    assert record.when("mail", key) is None and record.start() == AT - timedelta(hours=1)
    record.close()


def test_rows_of_a_record_this_version_never_marked_are_the_previous_versions(tmp_path):
    record = SentRecord(tmp_path / "sent.sqlite3")
    assert record.mark("mail", "old", AT, before_upgrade=True)
    assert record.start() is None and record.when_before_upgrade("mail", "old") == AT
    assert record.mark("mail", "new", AT + timedelta(minutes=1))
    assert record.when_before_upgrade("mail", "old") == AT and record.when_before_upgrade("mail", "new") is None
    record.close()
