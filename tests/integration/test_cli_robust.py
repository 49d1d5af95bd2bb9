"""The command line under bad input: gzip bombs, broken files, files that are not what their
name says, a run that stops half-way, a worker that dies, and a lake on S3 that is not there.

Each bad input costs only itself: it is reported with a reason and the good ones are written.
Errors are one line on stderr and a non-zero exit, never a traceback. The memory-hungry cases
run the command in a child process under an address-space limit, so a regression fails the
test instead of swapping the machine.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cleaning.cli import main
from tests.support import ROOT, SAMPLES

PAGES = sorted((SAMPLES / "coastal-ledger").rglob("*.html"))
MEMBER = gzip.compress(b"\0" * 10_000_000, 9)  # 10 MB of zeros in about 10 KB


def bomb(path: Path, megabytes: int) -> Path:
    """A gzip file of about ``megabytes`` MB that unzips to about a thousand times that."""
    path.write_bytes(MEMBER * (megabytes * 1_000_000 // len(MEMBER)))
    return path


def one_member_bomb() -> bytes:
    """512 MB of zeros in one gzip member of about 2.3 MB (about a second to make)."""
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join([packer.compress(zeros) for _ in range(512)] + [packer.flush()])


# Runs the CLI and, at exit, writes its own peak resident memory (kB): VmHWM counts only what
# the process touched after exec, and RUSAGE_CHILDREN its worker processes. (The ru_maxrss that
# wait4 reports for a forked child starts from the test process's own size at the fork.)
_PEAK_RUNNER = """
import atexit, resource, sys
out = sys.argv.pop(1)

def record():
    with open("/proc/self/status") as fh:
        own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(str(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))

atexit.register(record)
from cleaning.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli(*args: str, limit_bytes: int = 1024**3) -> tuple[int, str, int]:
    """Run ``cleaning`` in a child limited to ``limit_bytes`` of address space: (exit status,
    stderr, peak resident MB of the child and its workers)."""
    import tempfile

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        child = subprocess.Popen(
            [sys.executable, "-c", _PEAK_RUNNER, str(peak_file), *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=limit,
        )
        err = child.stderr.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        peak_kb = int(peak_file.read_text()) if peak_file.exists() else usage.ru_maxrss
    return child.returncode, err, peak_kb // 1024


def rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- cleaning extract: decompression caps
@pytest.mark.parametrize("megabytes", [1, 8])
def test_a_gzip_bomb_is_rejected_without_unzipping_it(tmp_path, megabytes):
    bad = bomb(tmp_path / "bomb.html.gz", megabytes)
    out = tmp_path / "out.jsonl"
    status, err, peak_mb = run_cli(
        "extract", str(PAGES[0]), str(bad), str(PAGES[1]), "--out", str(out), "--workers", "1"
    )
    assert status == 0 and "Traceback" not in err, err
    assert peak_mb < 400, peak_mb  # never the gigabytes it unzips to
    got = rows(out)
    assert [r["source_path"] for r in got] == [str(PAGES[0]), str(bad), str(PAGES[1])]
    assert got[1]["error"].startswith("too_large") and got[1]["text"] is None
    assert got[0]["text"] and got[2]["text"]
    assert "1 rejected" in err


def test_a_bomb_inside_a_warc_is_rejected_too(tmp_path):
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    warc = tmp_path / "crawl.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, encoding in (
            ("https://a.example/bomb", one_member_bomb(), "gzip"),
            ("https://a.example/fine", PAGES[0].read_bytes(), None),
        ):
            headers = [("Content-Type", "text/html; charset=utf-8")] + (
                [("Content-Encoding", encoding)] if encoding else []
            )
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    out = tmp_path / "out.jsonl"
    status, err, peak_mb = run_cli("extract", str(warc), "--out", str(out), "--workers", "1")
    assert status == 0 and "Traceback" not in err, err
    assert peak_mb < 400, peak_mb
    got = rows(out)
    assert [r["url"] for r in got] == ["https://a.example/bomb", "https://a.example/fine"]
    assert got[0]["error"].startswith("too_large") and got[1]["text"]


def test_a_huge_plain_page_is_not_read(tmp_path):
    big = tmp_path / "big.html"
    with big.open("wb") as fh:  # sparse: 3 GB on paper, nothing on disk
        fh.truncate(3 * 1024**3)
    out = tmp_path / "out.jsonl"
    status, err, peak_mb = run_cli("extract", str(big), str(PAGES[0]), "--out", str(out), "--workers", "1")
    assert status == 0 and "Traceback" not in err, err
    assert peak_mb < 400
    got = rows(out)
    assert got[0]["error"].startswith("too_large") and got[1]["text"]


# ---------------------------------------------------------------- cleaning extract: one bad input costs only itself
def broken_inputs(tmp_path: Path) -> list[Path]:
    page = PAGES[0].read_bytes()
    files = {
        "cut.html.gz": gzip.compress(page)[:-40],  # truncated
        "not-gzip.html.gz": b"<html>plain, named .gz</html>",
        "padded.html.gz": gzip.compress(page) + b"\0" * 16,  # fine: padding after the stream
        "two-members.html.gz": gzip.compress(page[:2000]) + gzip.compress(page[2000:]),  # fine: gzip allows it
        "garbage.warc.gz": os.urandom(4000),
        "empty.warc": b"",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return [tmp_path / name for name in files]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_bad_files_are_reported_and_good_ones_kept(tmp_path, capsys, suffix):
    inputs = broken_inputs(tmp_path)
    out = tmp_path / f"out{suffix}"
    assert main(["extract", str(PAGES[0]), *map(str, inputs), str(PAGES[1]), "--out", str(out), "--workers", "1"]) == 0
    by_file = {}
    for r in rows(out):
        by_file.setdefault(Path(r["source_path"]).name, []).append(r)
    assert by_file[PAGES[0].name][0]["text"] and by_file[PAGES[1].name][0]["text"]
    assert by_file["cut.html.gz"][0]["error"].startswith("truncated")
    assert by_file["not-gzip.html.gz"][0]["error"].startswith("unreadable")
    assert by_file["padded.html.gz"][0]["text"] == by_file[PAGES[0].name][0]["text"]
    assert by_file["two-members.html.gz"][0]["text"] == by_file[PAGES[0].name][0]["text"]
    assert by_file["garbage.warc.gz"][0]["error"].split(":")[0] in ("bad_warc", "truncated")
    assert "empty.warc" not in by_file  # no records, no pages: nothing lost
    assert "Traceback" not in capsys.readouterr().err


def test_records_are_written_as_they_come(tmp_path, monkeypatch):
    """A run that stops half-way keeps the batches it finished (and Parquet stays readable)."""
    import cleaning.cli as cli

    def pages_then_failure(inputs, cap):
        for path in PAGES[:3]:
            yield str(path), None, path.read_bytes(), None
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(cli, "EXTRACT_BATCH", 2)
    monkeypatch.setattr(cli, "_pages_of", pages_then_failure)
    for suffix in (".jsonl", ".parquet"):
        out = tmp_path / f"out{suffix}"
        with pytest.raises(RuntimeError):
            main(["extract", str(PAGES[0]), "--out", str(out), "--workers", "1"])
        assert [r["source_path"] for r in rows(out)] == [str(PAGES[0]), str(PAGES[1])]


def die_on_marker(body, url, content_type, settings):
    """A clean_one whose worker process dies on one page, as an out-of-memory kill would."""
    from cleaning.clean import _clean_one

    if b"KILL-THE-WORKER" in body:
        os._exit(9)
    return _clean_one((body, url, content_type, settings))


def test_a_worker_that_dies_costs_only_its_page(tmp_path, monkeypatch):
    import cleaning.clean

    monkeypatch.setattr(cleaning.clean, "clean_one", die_on_marker)
    deadly = tmp_path / "deadly.html"
    deadly.write_bytes(b"<html><body>KILL-THE-WORKER</body></html>")
    out = tmp_path / "out.jsonl"
    assert (
        main(["extract", str(PAGES[0]), str(deadly), str(PAGES[1]), str(PAGES[2]), "--out", str(out), "--workers", "2"])
        == 0
    )
    got = rows(out)
    assert [Path(r["source_path"]).name for r in got] == [PAGES[0].name, "deadly.html", PAGES[1].name, PAGES[2].name]
    assert got[1]["error"].startswith("worker_died")
    assert all(r["text"] for r in got if r is not got[1])


def test_bad_arguments_are_refused_before_any_work(tmp_path):
    with pytest.raises(SystemExit, match="input not found: .*missing.html"):
        main(["extract", str(PAGES[0]), str(tmp_path / "missing.html"), "--out", str(tmp_path / "o.jsonl")])
    with pytest.raises(SystemExit, match="--out must end in .jsonl or .parquet"):
        main(["extract", str(PAGES[0]), "--out", str(tmp_path / "o.csv")])
    with pytest.raises(SystemExit, match="--workers must be 0"):
        main(["extract", str(PAGES[0]), "--out", str(tmp_path / "o.jsonl"), "--workers", "-2"])
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("command", ["extract", "dedup"])
def test_an_output_that_cannot_be_written_is_one_line(tmp_path, command):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "a story"}) + "\n")
    given = str(PAGES[0]) if command == "extract" else str(src)
    for suffix in (".jsonl", ".parquet"):
        with pytest.raises(SystemExit, match="error: cannot write .*no-such-folder"):
            main(
                [
                    command,
                    given,
                    "--out",
                    str(tmp_path / "no-such-folder" / f"out{suffix}"),
                    *(["--workers", "1"] if command == "extract" else []),
                ]
            )


# ---------------------------------------------------------------- cleaning dedup: inputs that are not what they say
def test_dedup_on_a_parquet_file_that_is_not_parquet(tmp_path):
    fake = tmp_path / "records.parquet"
    fake.write_text('{"id": 1, "text": "json, not parquet"}\n')
    with pytest.raises(SystemExit) as info:
        main(["dedup", str(fake), "--out", str(tmp_path / "out.jsonl")])
    message = str(info.value)
    assert message.startswith(f"error: {fake}: not a readable Parquet file") and "\n" not in message


def test_dedup_on_a_binary_jsonl(tmp_path):
    binary = tmp_path / "records.jsonl"
    binary.write_bytes(b'{"id": 1, "text": "fine"}\n' + os.urandom(300).replace(b"\n", b"") + b"\xff\n")
    with pytest.raises(SystemExit) as info:
        main(["dedup", str(binary), "--out", str(tmp_path / "out.jsonl")])
    message = str(info.value)
    assert message.startswith(f"error: {binary}:2: not UTF-8 text") and "\n" not in message


def test_dedup_errors_exit_non_zero_without_traceback(tmp_path):
    fake = tmp_path / "records.parquet"
    fake.write_bytes(b"PAR1 but not really")
    status, err, _ = run_cli("dedup", str(fake), "--out", str(tmp_path / "out.jsonl"))
    assert status != 0 and "Traceback" not in err and err.strip().count("\n") == 0, err
    assert "not a readable Parquet file" in err


# ---------------------------------------------------------------- a lake on S3 that is not there
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def s3_uri(endpoint: str, bucket: str) -> str:
    return f"s3://{bucket}/lake?endpoint_override={endpoint}&scheme=http&region=us-east-1"


def test_a_missing_bucket_is_a_clear_error(s3_endpoint, capsys):
    from cleaning.store import Lake, LakeError

    uri = s3_uri(s3_endpoint.url, "no-such-bucket")
    with pytest.raises(LakeError, match="bucket 'no-such-bucket' does not exist"):
        Lake(uri)
    for argv in (["run", "--date", "2025-08-28", "--lake", uri], ["report", "2025-08-28", "--lake", uri]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "error: lake s3://no-such-bucket/lake" in err and "does not exist" in err and "Traceback" not in err
        assert "testing" not in err  # no credentials in messages


def test_an_endpoint_that_is_down_is_a_clear_error(s3_endpoint, capsys):
    uri = s3_uri(f"http://127.0.0.1:{closed_port()}", "lake-0000")
    assert main(["report", "2025-08-28", "--lake", uri]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the storage endpoint" in err and "Traceback" not in err


def test_storage_errors_during_work_name_the_lake(s3_endpoint):
    """A bucket that vanishes after the lake was opened: the next write says so."""
    from cleaning.store import Lake, LakeError

    uri = s3_endpoint.lake()
    lake = Lake(uri)
    lake.write_bytes("probe.txt", b"x")
    bucket = uri.split("/")[2]
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(
        endpoint_override=s3_endpoint.url,
        scheme="http",
        region="us-east-1",
        access_key="testing",
        secret_key="testing",
        allow_bucket_deletion=True,
    )
    fs.delete_dir(bucket)
    with pytest.raises(LakeError, match=f"lake s3://{bucket}/lake.*bucket '{bucket}' does not exist"):
        lake.write_bytes("again.txt", b"x")
    with pytest.raises(FileNotFoundError):  # a file that is simply not there stays FileNotFoundError
        Lake(str(Path("/nonexistent-lake-dir"))).read_bytes("x.json")
