from pathlib import Path

import pytest

from cleaning.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    (tmp_path / "feed.xml").write_text("<rss><channel></channel></rss>")
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


GOOD = """\
[pipeline]
lake = "lake"
shards = 2

[[sources]]
name = "local-pages"
kind = "local"
path = "pages"

[[sources]]
name = "wire"
kind = "feed"
url = "feed.xml"
max_items = 10
"""


def test_valid_config_resolves_paths(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.shards == 2
    assert config.lake == str((tmp_path / "lake").resolve())
    assert config.source("local-pages").path == str((tmp_path / "pages").resolve())
    assert config.source("wire").url == str((tmp_path / "feed.xml").resolve())
    assert len(config.digest()) == 16


def test_unknown_key_names_the_line(tmp_path):
    text = GOOD.replace('max_items = 10', 'max_itmes = 10')
    with pytest.raises(ConfigError, match=r"sources.toml:14: unknown key 'max_itmes'"):
        load_config(write(tmp_path, text))


def test_bad_url_names_the_line(tmp_path):
    text = GOOD.replace('url = "feed.xml"', 'url = "ftp://example.org/feed"')
    with pytest.raises(ConfigError, match=r"sources.toml:13: .*unsupported scheme 'ftp'"):
        load_config(write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path):
    text = GOOD.replace('path = "pages"', 'path = "nowhere"')
    with pytest.raises(ConfigError, match=r"sources.toml:8: local source path not found"):
        load_config(write(tmp_path, text))


def test_wrong_type_and_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.toml:3: 'shards' must be int"):
        load_config(write(tmp_path, GOOD.replace("shards = 2", 'shards = "two"')))
    with pytest.raises(ConfigError, match=r"unknown section \[fetcher\]"):
        load_config(write(tmp_path, GOOD + "\n[fetcher]\ndelay_seconds = 1\n"))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_cli_reports_config_error_without_traceback(tmp_path, capsys):
    from cleaning.cli import main

    path = write(tmp_path, GOOD.replace("kind = \"local\"", "kind = \"ftp\""))
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown kind 'ftp'" in err and "Traceback" not in err


def test_fetch_limits_name_the_line(tmp_path):
    text = GOOD.replace("shards = 2", "shards = 2\n\n[fetch]\nmax_workers = 0")
    with pytest.raises(ConfigError, match=r"sources.toml:6: 'max_workers' must be at least 1"):
        load_config(write(tmp_path, text))
