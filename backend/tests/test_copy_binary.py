"""COPY's binary format (writers.encode_copy_binary): every codec round-trips as the text format loads it."""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from backend.database import make_engine
from backend.seeding.dataset import Batch, format_timestamps, nullable, timestamps
from backend.seeding.writers import copy_codecs, encode_copy_binary, encode_copy_binary_rows, encode_copy_text

COLUMNS = (
    ("big", "bigint", "int8"),
    ("small", "smallint", "int2"),
    ("whole", "integer", "int4"),
    ("flag", "boolean", "bool"),
    ("body", "text", "text"),
    ("label", "varchar(40)", "text"),
    ("stamp", "timestamptz", "timestamp"),
    ("naive", "timestamp", "timestamp"),
    ("day", "date", "date"),
)
ROWS: list[tuple[Any, ...]] = [
    (1, 2, 3, True, "hello", "a", "2026-05-01 12:34:56.123456", "2026-05-01 00:00:00.000000", "2026-05-01"),
    (
        -(2**62),
        -32768,
        -(2**31),
        False,
        "tab\there\nnew line \\ back",
        "",
        "1999-12-31 23:59:59.999999",
        "1970-01-01 00:00:00.000001",
        "1999-12-31",
    ),
    (None, None, None, None, None, None, None, None, None),
    (
        2**62,
        32767,
        2**31 - 1,
        True,
        "émoji 🎉 ünïcode",
        "ok",
        "2000-01-01 00:00:00.000000",
        "2000-01-01 00:00:00.000000",
        "2000-01-01",
    ),
]


def _load(cursor: Any, table: str, payload: bytes, binary: bool) -> None:
    option = " (FORMAT binary)" if binary else ""
    names = ", ".join(name for name, _, _ in COLUMNS)
    cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN{option}", io.BytesIO(payload))


def test_every_codec_loads_what_the_text_format_loads(pg_url: str) -> None:
    columns = [list(values) for values in zip(*ROWS, strict=True)]
    batch = Batch("typed", columns)
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # as the writer does for the text format
            definition = ", ".join(f"{name} {sql_type}" for name, sql_type, _ in COLUMNS)
            conn.exec_driver_sql(f"CREATE TABLE typed_binary (n serial, {definition})")
            conn.exec_driver_sql(f"CREATE TABLE typed_text (n serial, {definition})")
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            _load(cursor, "typed_binary", encode_copy_binary(batch, [codec for _, _, codec in COLUMNS]), True)
            _load(cursor, "typed_text", encode_copy_text(batch), False)
            binary = conn.exec_driver_sql("SELECT * FROM typed_binary ORDER BY n").all()
            textual = conn.exec_driver_sql("SELECT * FROM typed_text ORDER BY n").all()
            assert len(binary) == len(ROWS)
            assert binary == textual
            assert binary[1][5] == "tab\there\nnew line \\ back" and binary[2][1:] == (None,) * len(COLUMNS)
    finally:
        engine.dispose()


def test_a_table_with_a_type_without_codec_is_written_as_text(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:  # rolled back at the end
            codecs = copy_codecs(conn, ["messages", "message_reactions"])
            assert codecs["messages"] == ("int8", "text", "timestamp", "timestamp", "int8", "int8", "int8")
            assert codecs["message_reactions"] is not None and "int4" in codecs["message_reactions"]
            conn.execute(text("ALTER TABLE messages ADD COLUMN score numeric"))
            conn.execute(text("ALTER TABLE messages ALTER COLUMN content TYPE jsonb USING to_jsonb(content)"))
            assert copy_codecs(conn, ["messages"])["messages"] is None
    finally:
        engine.dispose()


def test_a_nul_character_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode_copy_binary(Batch("t", [["a\x00b", "c"]]), ["text"])


def test_a_value_too_big_for_its_column_is_refused() -> None:
    """The text format would refuse it; the binary one must not wrap it round silently."""
    with pytest.raises(ValueError, match="int4"):
        encode_copy_binary(Batch("t", [[1, 2**31]]), ["int4"])
    with pytest.raises(ValueError, match="int2"):
        encode_copy_binary(Batch("t", [[-(2**15) - 1]]), ["int2"])
    with pytest.raises(OverflowError):
        encode_copy_binary(Batch("t", [[2**63]]), ["int8"])


def _array_columns() -> tuple[list[list[Any]], list[Any]]:
    """Columns of integers, nullable integers and timestamps: as Python values, and as the arrays entities
    hand the encoders (dataset.timestamps and dataset.nullable)."""
    micros = np.array([0, 946_684_800_000_000, 1_780_000_000_123_456, -1], dtype=np.int64)
    ids = np.array([1, -(2**40), 2**62, 7], dtype=np.int64)
    parents = np.array([5, -1, 6, -1], dtype=np.int64)
    texts = ["a", "émoji 🎉", "", "tab\there"]
    as_values = [ids.tolist(), texts, format_timestamps(micros), [5, None, 6, None]]
    as_arrays = [ids, texts, timestamps(micros), nullable(parents, parents < 0)]
    return as_values, as_arrays


def test_array_columns_encode_as_their_python_values() -> None:
    as_values, as_arrays = _array_columns()
    codecs = ["int8", "text", "timestamp", "int8"]
    expected = encode_copy_binary(Batch("t", as_values), codecs)
    assert encode_copy_binary(Batch("t", as_arrays), codecs) == expected
    assert encode_copy_text(Batch("t", as_arrays)) == encode_copy_text(Batch("t", as_values))
    assert Batch("t", as_arrays).rows() == Batch("t", as_values).rows()


def test_null_and_empty_text_in_several_text_columns() -> None:
    """Each text value keeps its own column and length, whatever the NULLs and empty strings around it."""
    batch = Batch("t", [[None, "x", ""], ["", None, "yz"], [1, 2, None]])
    payload = encode_copy_binary_rows(batch, ["text", "text", "int4"])
    fields: list[bytes | None] = []
    at = 0
    for _row in range(3):
        count = struct.unpack_from(">h", payload, at)[0]
        at += 2
        for _ in range(count):
            size = struct.unpack_from(">i", payload, at)[0]
            at += 4
            fields.append(None if size < 0 else payload[at : at + size])
            at += max(size, 0)
    assert at == len(payload)
    expected = [None, b"", b"\x00\x00\x00\x01", b"x", None, b"\x00\x00\x00\x02", b"", b"yz", None]
    assert fields == expected


def _row_by_row(rows: list[tuple[Any, ...]], codecs: list[str]) -> bytes:
    """The binary format written the plain way, one field at a time (int8, int4 and text only)."""
    out = bytearray()
    for row in rows:
        out += struct.pack(">h", len(row))
        for value, codec in zip(row, codecs, strict=True):
            if value is None:
                out += struct.pack(">i", -1)
            elif codec == "text":
                data = value.encode()
                out += struct.pack(">i", len(data)) + data
            else:
                out += struct.pack(">iq" if codec == "int8" else ">ii", 8 if codec == "int8" else 4, value)
    return bytes(out)


@pytest.mark.parametrize("seed", range(20))
def test_mixed_batches_match_the_format_written_field_by_field(seed: int) -> None:
    """NULLs, empty strings, non-ASCII text and NULL numbers right after a text value, in any mix."""
    rng = np.random.default_rng(seed)
    codecs = [str(c) for c in rng.choice(["text", "int8", "int4"], size=int(rng.integers(1, 6)))]
    words = ["", "a", "héllo", "🎉 party", "tab\there", "x" * 300]

    def value(codec: str) -> Any:
        if rng.random() < 0.3:
            return None
        return words[int(rng.integers(len(words)))] if codec == "text" else int(rng.integers(-(2**31), 2**31))

    rows = [tuple(value(codec) for codec in codecs) for _ in range(int(rng.integers(1, 40)))]
    batch = Batch("t", [list(column) for column in zip(*rows, strict=True)])
    assert bytes(encode_copy_binary_rows(batch, codecs)) == _row_by_row(rows, codecs)


@pytest.mark.parametrize("values", [["a\x00b", "c"], ["a", "c\x00"], ["\x00"], [None, "\x00"]])
def test_a_nul_anywhere_in_any_value_is_refused(values: list[str | None]) -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode_copy_binary_rows(Batch("t", [values, [1] * len(values)]), ["text", "int4"])


def test_array_columns_load_as_their_python_values(pg_url: str) -> None:
    as_values, as_arrays = _array_columns()
    codecs = ["int8", "text", "timestamp", "int8"]
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            for name in ("from_arrays", "from_values"):
                conn.exec_driver_sql(
                    f"CREATE TABLE {name} (n serial, a bigint, b text, c timestamptz, d bigint)"
                )
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for name, columns in (("from_arrays", as_arrays), ("from_values", as_values)):
                payload = encode_copy_binary(Batch(name, columns), codecs)
                cursor.copy_expert(
                    f"COPY {name} (a, b, c, d) FROM STDIN (FORMAT binary)", io.BytesIO(payload)
                )
            loaded = conn.exec_driver_sql("SELECT a, b, c, d FROM from_arrays ORDER BY n").all()
            assert loaded == conn.exec_driver_sql("SELECT a, b, c, d FROM from_values ORDER BY n").all()
            assert [row.d for row in loaded] == [5, None, 6, None]
            assert str(loaded[2].c) == "2026-05-28 20:26:40.123456+00:00"
    finally:
        engine.dispose()


def test_text_lengths_are_utf8_byte_lengths_and_other_values_are_written_as_text() -> None:
    batch = Batch("t", [["é", 12, "🎉x", "plain"]])
    payload = encode_copy_binary_rows(batch, ["text"])
    values = []
    at = 0
    while at < len(payload):
        size = struct.unpack_from(">i", payload, at + 2)[0]
        values.append(payload[at + 6 : at + 6 + size].decode())
        at += 6 + size
    assert values == ["é", "12", "🎉x", "plain"]
