"""The command line as people script it: extract, dedup, report, and clear errors."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest

from cleaning.cli import main
from tests.support import SAMPLES


def test_extract_folder_to_jsonl(tmp_path):
    out = tmp_path / "pages.jsonl"
    assert main(["extract", str(SAMPLES / "coastal-ledger"), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 16  # 15 articles and one section page
    index = [r for r in rows if r["source_path"].endswith("latest/index.html")][0]
    assert index["error"].startswith("not_article") and index["text"] is None
    good = [r for r in rows if not r["error"]]
    assert len(good) == 15 and all(r["title"] and r["text"] and r["url"].startswith("https://") for r in good)


def test_extract_warc_and_gz_to_parquet(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    page = next((SAMPLES / "northgate-herald").rglob("*.html")).read_bytes()
    warc = tmp_path / "pages.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "https://www.northgate-herald.example/x.html", "response", payload=io.BytesIO(page), http_headers=headers
        )
        writer.write_record(record)
    import gzip

    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(page))
    out = tmp_path / "pages.parquet"
    assert main(["extract", str(warc), str(gz), "--out", str(out)]) == 0
    rows = pq.read_table(out).to_pylist()
    assert [r["source_path"] for r in rows] == [str(warc), str(gz)]
    assert rows[0]["url"] == "https://www.northgate-herald.example/x.html"
    assert rows[0]["text"] == rows[1]["text"] and rows[0]["error"] is None


def test_dedup_jsonl_roundtrip(tmp_path):
    truth = json.loads((SAMPLES / "truth.json").read_text())
    pages = [p for p in truth["pages"] if p["kind"] == "article"]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": p["url"], "text": "\n\n".join(p["paragraphs"]), "story": p["story"]}) + "\n"
            for p in pages
        )
    )
    out = tmp_path / "out.parquet"
    assert main(["dedup", str(src), "--out", str(out)]) == 0
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(pages)
    assert {"id", "cluster_id", "canonical_id", "is_duplicate", "story"} <= set(rows[0])
    kept = [r for r in rows if not r["is_duplicate"]]
    assert len(kept) == len({p["story"] for p in pages})  # one per story
    for r in rows:
        canonical = next(x for x in rows if x["id"] == r["canonical_id"])
        assert canonical["story"] == r["story"]


def test_dedup_refuses_records_without_text(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "a"}\n{"id": 2}\n')
    with pytest.raises(SystemExit, match="record 2 has no 'text'"):
        main(["dedup", str(src), "--out", str(tmp_path / "o.jsonl")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "a"}\nnot json\n')
    with pytest.raises(SystemExit, match="bad.jsonl:2: not valid JSON"):
        main(["dedup", str(bad), "--out", str(tmp_path / "o.jsonl")])


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("run", "extract", "dedup", "report", "eval"):
        assert command in text


BODY = "Rescuers reached the stranded hikers after a night on the ridge, the mountain service said on Sunday morning."


def test_dedup_carries_every_field_through_unchanged(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": 1, "text": BODY, "published_at": "2025-08-28T07:00:00Z"},
        {"id": 2, "text": BODY.upper(), "published_at": "2025-08-27T07:00:00Z"},
        {"id": 3, "text": None, "tags": ["late", "field"]},  # a field only the last record has
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["dedup", str(src), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == [1, 2, 3]  # numbers stay numbers
    assert got[0]["published_at"] == "2025-08-28T07:00:00Z"  # as given, not re-formatted
    assert got[0]["canonical_id"] == 2 and got[0]["is_duplicate"]  # the earlier publication wins
    assert got[2]["tags"] == ["late", "field"]
    parquet = tmp_path / "out.parquet"
    assert main(["dedup", str(src), "--out", str(parquet)]) == 0
    table = pq.read_table(parquet)
    assert table.column("tags").to_pylist() == [None, None, ["late", "field"]]
    assert table.column("canonical_id").to_pylist() == [2, 2, 3]


def test_dedup_parquet_to_parquet_keeps_column_types(tmp_path):
    import datetime as dt

    import pyarrow as pa

    src = tmp_path / "in.parquet"
    when = [dt.datetime(2025, 8, 28, tzinfo=dt.timezone.utc), dt.datetime(2025, 8, 29, tzinfo=dt.timezone.utc)]
    pq.write_table(
        pa.table(
            {
                "id": pa.array([10, 11], pa.int64()),
                "text": [BODY, BODY + " Updated."],
                "seen": pa.array(when, pa.timestamp("ms", tz="UTC")),
            }
        ),
        src,
    )
    out = tmp_path / "out.parquet"
    assert main(["dedup", str(src), "--out", str(out)]) == 0
    table = pq.read_table(out)
    assert table.schema.field("seen").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("canonical_id").type == pa.int64()
    assert table.column("is_duplicate").to_pylist() == [True, False]  # no dates: the longer body is kept
    assert table.column("canonical_id").to_pylist() == [11, 11]


def test_dedup_refuses_bad_thresholds_and_repeated_ids(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": BODY}) + "\n")
    with pytest.raises(SystemExit, match=r"--threshold must be in \(0, 1\]"):
        main(["dedup", str(src), "--out", str(tmp_path / "o.jsonl"), "--threshold", "1.5"])
    src.write_text(json.dumps({"id": 1, "text": BODY}) + "\n" + json.dumps({"id": "1", "text": "other"}) + "\n")
    with pytest.raises(SystemExit, match="ids must be unique"):
        main(["dedup", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert not (tmp_path / "o.jsonl").exists()


def test_extract_gives_the_same_records_with_one_or_several_processes(tmp_path, monkeypatch):
    import cleaning.cli as cli

    (tmp_path / "broken.html.gz").write_bytes(b"not gzip at all")
    monkeypatch.setattr(cli, "EXTRACT_BATCH", 5)  # several batches, one of them partly unreadable
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        assert (
            main(
                [
                    "extract",
                    str(SAMPLES / "coastal-ledger"),
                    str(tmp_path / "broken.html.gz"),
                    "--out",
                    str(out),
                    "--workers",
                    workers,
                ]
            )
            == 0
        )
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    rows = [json.loads(line) for line in outputs[0].splitlines()]
    assert rows[-1]["error"].startswith("unreadable") and sum(1 for r in rows if r["text"]) >= 10


def test_dedup_takes_dates_of_any_kind_and_refuses_numbers(tmp_path):
    import datetime as dt

    import pyarrow as pa

    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["late", "early"],
                "text": [BODY, BODY],
                "published_at": pa.array([dt.date(2025, 8, 29), dt.date(2025, 8, 28)], pa.date32()),
            }
        ),
        src,
    )
    out = tmp_path / "out.parquet"
    assert main(["dedup", str(src), "--out", str(out)]) == 0
    assert pq.read_table(out).column("canonical_id").to_pylist() == ["early", "early"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "text": BODY, "published_at": 1756339200}) + "\n")
    with pytest.raises(SystemExit, match="record 1 has a 'published_at' that is not a date"):
        main(["dedup", str(bad), "--out", str(tmp_path / "o.jsonl")])
