"""The one SSE reader every client of ours uses (printeragent/sse.py): the
shapes our streams send, read through httpx-sse's decoders."""

from __future__ import annotations

from printeragent.sse import Frame, Reader, frames, read

STREAM = (
    b": keep-alive\n\n"
    b"id: cashier:4\n\n"
    b": keep-alive\n\n"
    + 'event: confirmed-order\nid: cashier:5\ndata: {"name":\ndata: "Crème brûlée"}\n\n'.encode()
    + b": padding\r\n\r\n"
    b"event: stream-reset\nid: cashier:9\ndata: {}\n\n"
)
READ = [
    Frame("comment", "keep-alive"),
    Frame("message", "", "cashier:4"),
    Frame("comment", "keep-alive"),
    Frame("confirmed-order", '{"name":\n"Crème brûlée"}', "cashier:5"),
    Frame("comment", "padding"),
    Frame("stream-reset", "{}", "cashier:9"),
]


def test_a_stream_reads_as_its_messages_and_comments_in_order():
    assert frames(STREAM) == READ


def test_a_keep_alive_after_an_id_is_a_comment_and_no_new_position():
    assert frames(b"id: printer:7\n\n: keep-alive\n\n: keep-alive\n\n") == [
        Frame("message", "", "printer:7"),
        Frame("comment", "keep-alive"),
        Frame("comment", "keep-alive"),
    ]


def test_bytes_cut_anywhere_read_the_same_as_whole():
    for size in (1, 2, 3, 7, 64):
        chunks = [STREAM[at : at + size] for at in range(0, len(STREAM), size)]
        assert list(read(chunks)) == READ, size


def test_a_message_cut_off_by_the_end_of_the_stream_is_never_read():
    assert list(read([b"event: open-drawer\nid: printer:6\ndata: {}"])) == []
    assert list(read([b"id: printer:6\n\nevent: open-drawer\ndata: {}\n"])) == [Frame("message", "", "printer:6")]


def test_a_reader_hands_out_each_frame_once_as_bytes_come():
    reader = Reader()
    assert reader.feed(b"event: x\nid: c:1\ndata: 1") == []
    assert reader.feed(b"\n\n: keep") == [Frame("x", "1", "c:1")]
    assert reader.feed(b"-alive\n") == [Frame("comment", "keep-alive")]
    assert reader.end() == []
