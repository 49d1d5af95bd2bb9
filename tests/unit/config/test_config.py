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
    text = GOOD.replace("max_items = 10", "max_itmes = 10")
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

    path = write(tmp_path, GOOD.replace('kind = "local"', 'kind = "ftp"'))
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown kind 'ftp'" in err and "Traceback" not in err


def test_fetch_limits_name_the_line(tmp_path):
    text = GOOD.replace("shards = 2", "shards = 2\n\n[fetch]\nmax_workers = 0")
    with pytest.raises(ConfigError, match=r"sources.toml:6: 'max_workers' must be at least 1"):
        load_config(write(tmp_path, text))


# ---------------------------------------------------------------- every value checked at load time
def write_with(tmp_path: Path, section: str, line: str) -> Path:
    """GOOD plus one ``[section]`` holding ``line`` (at line 17 of the file)."""
    return write(tmp_path, GOOD + f"\n[{section}]\n{line}\n")


@pytest.mark.parametrize(
    "section,line,message",
    [
        # NaN and infinities: an infinite total timeout kills the fetch watchdog thread
        ("fetch", "total_timeout_seconds = inf", "'total_timeout_seconds' must be a finite number"),
        ("fetch", "timeout_seconds = nan", "'timeout_seconds' must be a finite number"),
        ("fetch", "connect_timeout_seconds = +inf", "'connect_timeout_seconds' must be a finite number"),
        ("fetch", "delay_seconds = -inf", "'delay_seconds' must be a finite number"),
        ("clean", "page_timeout_seconds = inf", "'page_timeout_seconds' must be a finite number"),
        # finite, but too large for the timers, sleeps and counters that use them
        ("fetch", "total_timeout_seconds = 1e300", "'total_timeout_seconds' must be at most 86400"),
        ("fetch", "retries = 5000", "'retries' must be at most 100"),
        ("fetch", "max_bytes = 9223372036854775807", "'max_bytes' must be at most"),
        ("fetch", "seen_days = 100000000", "'seen_days' must be at most 36500"),
        # negative or zero limits of the clean stage
        ("clean", "min_words = -1", "'min_words' must be at least 0"),
        ("clean", "repeat_min_words = 0", "'repeat_min_words' must be at least 1"),
        ("clean", "max_page_bytes = -5", "'max_page_bytes' must be at least 1"),
        ("clean", "page_timeout_seconds = -1.0", "'page_timeout_seconds' must be at least 0"),
        ("clean", "furniture_min_pages = -2", "'furniture_min_pages' must be at least 0"),
        ("clean", "furniture_min_share = 1.5", "'furniture_min_share' must be at most 1"),
        # dedup settings that would crash or mislead the dedup stage later
        ("dedup", "num_perm = 0", "'num_perm' must be at least 1"),
        ("dedup", "shingle_words = 0", "'shingle_words' must be at least 1"),
        ("dedup", "min_shingles = 0", "'min_shingles' must be at least 1"),
        ("dedup", "lead_words = -5", "'lead_words' must be at least 0"),
        ("dedup", "jaccard_threshold = 0.0", r"'jaccard_threshold' must be more than 0"),
        ("dedup", "containment_threshold = 1.01", "'containment_threshold' must be at most 1"),
        ("dedup", "lsh_threshold = nan", "'lsh_threshold' must be a finite number"),
        ("dedup", "history_days = -1", "'history_days' must be at least 0"),
        # types, strictly: bool is not int, a number is not a network
        ("fetch", "max_workers = true", "'max_workers' must be int, got bool True"),
        ("fetch", "obey_robots = 1", "'obey_robots' must be bool, got int 1"),
        ("fetch", "timeout_seconds = false", "'timeout_seconds' must be float, got bool False"),
        ("fetch", "allow_networks = [1]", r"'allow_networks' item 1 must be str, got int 1"),
        ("fetch", 'allow_networks = "10.0.0.0/8"', r"'allow_networks' must be a list of str, got str"),
        ("fetch", 'allow_networks = ["10.0.0.0/8", "ten"]', r"'allow_networks' entry 'ten' is not a network"),
        ("fetch", 'user_agent = "newsclean\\nX-Injected: 1"', r"'user_agent' must be one line of printable text"),
        # allow lists that would switch the address guard off
        ("fetch", 'allow_networks = ["0.0.0.0/0"]', r"'allow_networks' entry '0.0.0.0/0' covers public addresses"),
        ("fetch", 'allow_networks = ["::/0"]', r"'allow_networks' entry '::/0' covers public addresses"),
        (
            "fetch",
            'allow_networks = ["10.0.0.0/8", "0.0.0.0/1"]',
            r"'allow_networks' entry '0.0.0.0/1' covers public addresses",
        ),
        ("fetch", 'allow_networks = ["8.8.8.8/32"]', r"'allow_networks' entry '8.8.8.8/32' covers public addresses"),
        ("fetch", 'allow_networks = ["2000::/3"]', r"'allow_networks' entry '2000::/3' covers public addresses"),
    ],
)
def test_bad_values_are_refused_at_load_time_with_the_line(tmp_path, section, line, message):
    with pytest.raises(ConfigError, match=r"sources.toml:17: " + message):
        load_config(write_with(tmp_path, section, line))


def test_pipeline_numbers_are_checked_too(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.toml:4: 'max_failure_share' must be a finite number, got nan"):
        load_config(write(tmp_path, GOOD.replace("shards = 2", "shards = 2\nmax_failure_share = nan")))
    with pytest.raises(ConfigError, match=r"sources.toml:3: 'shards' must be at least 1, got 0"):
        load_config(write(tmp_path, GOOD.replace("shards = 2", "shards = 0")))
    with pytest.raises(ConfigError, match=r"sources.toml:14: 'delay_seconds' must be a finite number, got inf"):
        load_config(write(tmp_path, GOOD.replace('url = "feed.xml"', 'url = "feed.xml"\ndelay_seconds = inf')))


def test_private_allow_lists_load_and_the_switch_allows_public_ones(tmp_path):
    private = 'allow_networks = ["127.0.0.0/8", "10.1.0.0/16", "fd00::/8", "169.254.169.254", "::1"]'
    config = load_config(write_with(tmp_path, "fetch", private))
    assert config.fetch.allow_networks == ("127.0.0.0/8", "10.1.0.0/16", "fd00::/8", "169.254.169.254/32", "::1/128")
    opened = load_config(
        write_with(tmp_path, "fetch", 'allow_networks = ["0.0.0.0/0", "::/0"]\nallow_networks_include_public = true')
    )
    assert opened.fetch.allow_networks == ("0.0.0.0/0", "::/0")
    assert opened.fetch.allow_networks_include_public is True


def test_the_non_public_blocks_hold_no_public_address():
    from cleaning.config import NON_PUBLIC_NETWORKS

    for net in NON_PUBLIC_NETWORKS:
        for address in (net.network_address, net.broadcast_address, net.network_address + net.num_addresses // 2):
            assert not address.is_global or address.is_multicast, (net, address)


def test_settings_built_in_python_are_checked_too():
    from cleaning.config import CleanConfig, Config, DedupConfig, FetchConfig

    with pytest.raises(ConfigError, match="'total_timeout_seconds' must be a finite number"):
        FetchConfig(total_timeout_seconds=float("inf"))
    with pytest.raises(ConfigError, match="covers public addresses"):
        FetchConfig(allow_networks=("0.0.0.0/0",))
    with pytest.raises(ConfigError, match=r"'allow_networks' item 1 must be str"):
        FetchConfig(allow_networks=(1,))
    with pytest.raises(ConfigError, match="'num_perm' must be at least 1"):
        DedupConfig(num_perm=0)
    with pytest.raises(ConfigError, match="'repeat_min_words' must be at least 1"):
        CleanConfig(repeat_min_words=-3)
    with pytest.raises(ConfigError, match="'shards' must be at least 1"):
        Config(path=Path("x.toml"), lake="", shards=0)
    assert FetchConfig(timeout_seconds=5).timeout_seconds == 5  # an int is a fine float


def test_mirror_of_the_wrong_type_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.toml:14: 'mirror' must be a table of str, got str 'pages'"):
        load_config(write(tmp_path, GOOD.replace("max_items = 10", 'mirror = "pages"')))
    with pytest.raises(
        ConfigError, match=r"sources.toml:14: 'mirror' value for 'https://wire.example/' must be str, got int 1"
    ):
        load_config(write(tmp_path, GOOD.replace("max_items = 10", 'mirror = { "https://wire.example/" = 1 }')))
    with pytest.raises(ConfigError, match=r"sources.toml:14: 'mirror' must be a table of str, got list"):
        load_config(write(tmp_path, GOOD.replace("max_items = 10", 'mirror = ["pages"]')))


def test_config_that_is_not_utf8_names_the_line(tmp_path):
    path = write(tmp_path, GOOD)
    path.write_bytes(GOOD.replace('name = "wire"', 'name = "w\xefre"').encode("latin-1"))
    with pytest.raises(ConfigError, match=r"sources.toml:11: not UTF-8 text"):
        load_config(path)


def test_config_that_is_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path)


def test_every_setting_can_be_written_and_reads_back_as_its_default(tmp_path):
    """The keys accepted are the settings classes' fields, typed as they are annotated."""
    from dataclasses import asdict

    from cleaning.config import CleanConfig, DedupConfig, FetchConfig
    from tests.support import _toml_value

    text = GOOD
    for name, cls in (("fetch", FetchConfig), ("clean", CleanConfig), ("dedup", DedupConfig)):
        text += (
            f"\n[{name}]\n" + "\n".join(f"{key} = {_toml_value(value)}" for key, value in asdict(cls()).items()) + "\n"
        )
    config = load_config(write(tmp_path, text))
    assert (config.fetch, config.clean, config.dedup) == (FetchConfig(), CleanConfig(), DedupConfig())


def test_cli_reports_a_bad_number_without_traceback(tmp_path, capsys):
    from cleaning.cli import main

    path = write_with(tmp_path, "fetch", "total_timeout_seconds = inf")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sources.toml:17: 'total_timeout_seconds' must be a finite number" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "text, complaint",
    [
        ('[pipeline]\nlake = ""\n', "'lake' is empty"),
        ("sources = [1]\n", "not a table"),
        ('sources = ["ab"]\n', "not a table"),
    ],
)
def test_empty_lake_and_sources_that_are_not_tables_are_config_errors(tmp_path, text, complaint):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        load_config(path)
